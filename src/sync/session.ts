// Kept only so that test/property keeps compiling until its imports move to run-loop.ts; remove then.
export { runSync, exitStatusOf, type RunSummary, type SyncMode, type SyncSettings } from './run-loop.js';
