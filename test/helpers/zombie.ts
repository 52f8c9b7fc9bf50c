import { spawn } from 'node:child_process';
import { procStatOf } from '../../src/fs/process-alive.js';
import { until } from './wait.js';

/**
 * A real zombie (Linux): sh starts `sleep 0` in the background and execs a sleep, which never reaps it. Returns
 * its pid and start time, and `end` to kill the parent (the zombie then passes to PID 1, which may or may not reap).
 */
export async function makeZombie(): Promise<{ pid: number; startTicks: string | null; end: () => void }> {
  const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
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
