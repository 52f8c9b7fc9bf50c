import { UsageError } from '../errors.js';

/** When a run starts a helper thread: always, never, or when its work is large enough for the thread to pay. */
export type WorkerMode = 'always' | 'never' | 'auto';

/**
 * The mode an environment variable asks for (TSYNC_SCAN_WORKER, TSYNC_COPY_WORKER): unset or empty is
 * `auto`; anything else that is not a mode is a usage error that names the variable.
 */
export function workerModeFromEnv(name: string, value: string | undefined = process.env[name]): WorkerMode {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'always' || value === 'never') return value;
  throw new UsageError(`${name} must be always, never or auto, not ${JSON.stringify(value)}`);
}
