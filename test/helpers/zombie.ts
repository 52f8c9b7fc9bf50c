import { spawn } from 'node:child_process';
import { procStatOf } from '../../src/fs/process-alive.js';
import { until } from './wait.js';

/**
 * The background child's script: it exits only once its parent has become `sleep`. dash reaps a background child
 * that exits before the `exec` (by hand, a child that exits at once was reaped in 28 of 300 tries), and `sleep 0`
 * could lose that race on a loaded machine (a CI run failed so). Gives up after about 5 s, so that it never outlives
 * a parent killed before its `exec`.
 */
const EXIT_AFTER_PARENT_EXECS = 'i=0; until read c < /proc/$PPID/comm && [ "$c" = sleep ]; do i=$((i+1)); [ $i -gt 500 ] && exit 1; sleep 0.01; done';

/**
 * A real zombie (Linux): sh starts a child in the background and execs a sleep, which never reaps it. Returns its
 * pid and start time, and `end` to kill the parent (the zombie then passes to PID 1, which may or may not reap).
 */
export async function makeZombie(): Promise<{ pid: number; startTicks: string | null; end: () => void }> {
  const parent = spawn('sh', ['-c', `sh -c '${EXIT_AFTER_PARENT_EXECS}' & echo $!; exec sleep 30`], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const end = (): void => {
    parent.kill('SIGKILL');
  };
  try {
    let out = '';
    parent.stdout.on('data', (b: Buffer) => {
      out += b.toString();
    });
    await until(
      () => out.includes('\n'),
      5000,
      () => 'sh printed no pid',
    );
    const pid = Number(out.trim());
    await until(
      () => procStatOf(pid)?.state === 'Z',
      5000,
      () => `pid ${pid} never became a zombie`,
    );
    return { pid, startTicks: procStatOf(pid)?.startTicks ?? null, end };
  } catch (e) {
    end();
    throw e;
  }
}
