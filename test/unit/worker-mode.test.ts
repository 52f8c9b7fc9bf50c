// TSYNC_SCAN_WORKER and TSYNC_COPY_WORKER are read by one parser (runtime/worker-mode.ts).
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { workerModeFromEnv } from '../../src/runtime/worker-mode.js';

describe('worker modes from the environment', () => {
  it.each(['TSYNC_SCAN_WORKER', 'TSYNC_COPY_WORKER'])('%s takes always, never, auto (or nothing)', (name) => {
    expect([undefined, '', 'auto', 'always', 'never'].map((v) => workerModeFromEnv(name, v))).toEqual(['auto', 'auto', 'auto', 'always', 'never']);
  });

  it.each(['TSYNC_SCAN_WORKER', 'TSYNC_COPY_WORKER'])('%s refuses anything else, naming itself, as a usage error', (name) => {
    expect(() => workerModeFromEnv(name, 'yes')).toThrow(new RegExp(`^${name} must be always, never or auto, not "yes"$`));
    expect(() => workerModeFromEnv(name, 'yes')).toThrow(UsageError);
  });

  it('reads the variable itself when no value is given', () => {
    const before = process.env.TSYNC_COPY_WORKER;
    process.env.TSYNC_COPY_WORKER = 'never';
    try {
      expect(workerModeFromEnv('TSYNC_COPY_WORKER')).toBe('never');
    } finally {
      if (before === undefined) delete process.env.TSYNC_COPY_WORKER;
      else process.env.TSYNC_COPY_WORKER = before;
    }
  });
});
