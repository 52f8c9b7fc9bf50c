// --exclude, --include and .tsyncignore through the built CLI: excluded paths are neither copied nor
// deleted, on either side, and adding a filter later never deletes anything.
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, sandbox } from '../helpers/cli.js';
import { put } from '../helpers/tree.js';

describe('filters', () => {
  it('--exclude, --include and nested .tsyncignore files decide what a mirror gets', () => {
    const sb = sandbox();
    put(sb.src, 'src/main.ts', 'main\n');
    put(sb.src, 'src/build/out.js', 'built\n');
    put(sb.src, 'src/.tsyncignore', '# build output\nbuild/\n');
    put(sb.src, 'node_modules/x/index.js', 'dep\n');
    put(sb.src, 'logs/app.log', 'noise\n');
    put(sb.src, 'logs/keep.log', 'wanted\n');
    const r = sb.sync('--exclude', 'node_modules', '--exclude', '*.log', '--include', 'keep.log');
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(sb.dst, 'src/main.ts'), 'utf8')).toBe('main\n');
    expect(readFileSync(join(sb.dst, 'logs/keep.log'), 'utf8')).toBe('wanted\n');
    expect(existsSync(join(sb.dst, 'src/build'))).toBe(false);
    expect(existsSync(join(sb.dst, 'node_modules'))).toBe(false);
    expect(existsSync(join(sb.dst, 'logs/app.log'))).toBe(false);
    expect(existsSync(join(sb.dst, 'src/.tsyncignore'))).toBe(false); // tsync's own name: never synced
  });

  it('a path that becomes excluded is not deleted from the other side', () => {
    const sb = sandbox();
    for (let i = 0; i < 4; i++) put(sb.src, `keep${i}.txt`, `${i}\n`);
    put(sb.src, 'cache/big.bin', 'cached\n');
    expect(sb.sync().code).toBe(0);
    expect(existsSync(join(sb.dst, 'cache/big.bin'))).toBe(true);
    // excluded from now on, and even removed from the source: the mirror keeps it
    rmSync(join(sb.src, 'cache'), { recursive: true });
    const again = runCli(['sync', '--one-way', '--state-dir', sb.state, '--exclude', 'cache/', sb.src, sb.dst]);
    expect(again.code, again.stderr).toBe(0);
    expect(readFileSync(join(sb.dst, 'cache/big.bin'), 'utf8')).toBe('cached\n');
  });

  it('two-way: an ignore file on either side applies to both', () => {
    const sb = sandbox();
    mkdirSync(sb.dst);
    put(sb.src, 'a.txt', 'a\n');
    put(sb.src, 'tmp/scratch.txt', 'only on A\n');
    put(sb.dst, 'tmp/other.txt', 'only on B\n');
    put(sb.dst, '.tsyncignore', 'tmp/\n'); // only B has it
    const r = runCli(['sync', '--state-dir', sb.state, sb.src, sb.dst]);
    expect(r.code, r.stderr).toBe(0);
    expect(readFileSync(join(sb.dst, 'a.txt'), 'utf8')).toBe('a\n');
    expect(existsSync(join(sb.dst, 'tmp/scratch.txt'))).toBe(false);
    expect(existsSync(join(sb.src, 'tmp/other.txt'))).toBe(false);
  });
});
