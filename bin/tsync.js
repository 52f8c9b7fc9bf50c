#!/usr/bin/env node
// Thin launcher: the CLI is compiled from src/ into dist/ by `npm run build` (run by `prepare` on install).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv);
