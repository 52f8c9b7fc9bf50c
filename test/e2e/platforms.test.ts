// TSYNC_NO_PROC=1 forces the I/O path macOS takes (no /proc: plain paths checked by the lstat guard; see
// src/engine/dir-anchors.ts). `npm test` runs five suites through it (vitest project no-proc); this file shows the
// switch really changes the path taken, by the one difference visible from outside: a path longer than PATH_MAX
// syncs through directory descriptors, but is a problem line through plain paths.
import { execFileSync } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { runCli, sandbox } from '../helpers/cli.js';

function deepFile(root: string, components: readonly string[]): void {
  const script = `set -e; cd "$1"; shift; for c in "$@"; do mkdir -p "$c"; cd "$c"; done; printf 'deep\\n' > deep.txt`;
  execFileSync('bash', ['-c', script, 'bash', root, ...components]);
}

describe.skipIf(process.platform !== 'linux')('TSYNC_NO_PROC=1 (the fallback without /proc)', () => {
  it('a path beyond PATH_MAX: synced with /proc, a problem line (exit 1) through the fallback', () => {
    const sb = sandbox();
    onTestFinished(() => {
      execFileSync('rm', ['-rf', sb.dir]); // GNU rm walks by descriptor; Node's rmSync cannot
    });
    deepFile(
      sb.src,
      Array.from({ length: 17 }, (_, i) => `${String(i).padStart(2, '0')}${'z'.repeat(253)}`),
    );
    const args = ['sync', '--one-way', '--state-dir', sb.state, sb.src, sb.dst];

    const fallback = runCli(args, { env: { TSYNC_NO_PROC: '1' } });
    expect(fallback.code).toBe(1);
    expect(fallback.stderr).toMatch(/ENAMETOOLONG/);

    const anchored = runCli(args, { env: { TSYNC_NO_PROC: undefined } });
    expect(anchored.code, anchored.stderr).toBe(0);
  });
});
