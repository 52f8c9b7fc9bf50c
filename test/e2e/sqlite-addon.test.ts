// The CLI's bundle holds better-sqlite3's JavaScript and finds its compiled addon by path in the installed package
// (src/store/sqlite-binding.ts). A package copy in a temp dir, run as a real child process: with the addon it works;
// without it, the run stops with one line that says where the addon was looked for, and exit 2; without the package
// at all, with one line that says so, and exit 2.
import { cpSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describe, expect, it, onTestFinished } from 'vitest';
import { makeTempDir, projectRoot, removeTempDir } from '../helpers/cli.js';

/**
 * bin/, the bundle and package.json copied; node_modules linked entry by entry but for better-sqlite3, which is its
 * package.json and JavaScript, with its build/ linked for 'addon', without it for 'no addon', and absent for 'no package'.
 */
function packageCopy(sqlite: 'addon' | 'no addon' | 'no package'): { bin: string; dir: string } {
  const dir = makeTempDir('tsync-sqlite-addon-');
  onTestFinished(() => removeTempDir(dir));
  const pkg = join(dir, 'pkg');
  mkdirSync(join(pkg, 'dist'), { recursive: true });
  // cp -a keeps the bundle's modification time, which its code cache names (bin/load-bundle.js)
  for (const [from, to] of [
    [join(projectRoot, 'bin'), pkg],
    [join(projectRoot, 'package.json'), pkg],
    [join(projectRoot, 'dist', 'bundle'), join(pkg, 'dist')],
  ] as const)
    expect(spawnSync('cp', ['-a', from, to]).status).toBe(0);
  const modules = join(pkg, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(join(projectRoot, 'node_modules'))) if (name !== 'better-sqlite3') symlinkSync(join(projectRoot, 'node_modules', name), join(modules, name));
  const installed = join(projectRoot, 'node_modules', 'better-sqlite3');
  const copied = join(modules, 'better-sqlite3');
  if (sqlite !== 'no package') {
    mkdirSync(copied);
    cpSync(join(installed, 'package.json'), join(copied, 'package.json'));
    cpSync(join(installed, 'lib'), join(copied, 'lib'), { recursive: true });
  }
  if (sqlite === 'addon') symlinkSync(join(installed, 'build'), join(copied, 'build'));
  for (const d of ['a', 'b', 'state']) mkdirSync(join(dir, d));
  return { bin: join(pkg, 'bin', 'tsync.js'), dir };
}

function status(p: { bin: string; dir: string }) {
  return spawnSync(process.execPath, [p.bin, 'status', join(p.dir, 'a'), join(p.dir, 'b'), '--state-dir', join(p.dir, 'state')], { encoding: 'utf8', timeout: 30_000 });
}

describe("better-sqlite3's compiled addon, from the bundle", () => {
  it('a package copy with the addon runs (the check below needs this to mean anything)', () => {
    const r = status(packageCopy('addon'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('last sync: never');
  });

  it('without it: one line naming where it was looked for, exit 2', () => {
    const p = packageCopy('no addon');
    const r = status(p);
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(`better-sqlite3's compiled addon is in neither ${join(p.dir, 'pkg', 'node_modules', 'better-sqlite3', 'build', 'Release')} nor build/Debug`);
    expect(lines[0]).toContain('npm rebuild better-sqlite3');
  });

  it('without the package: one line saying so, exit 2', () => {
    const r = status(packageCopy('no package'));
    expect(r.status).toBe(2);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('better-sqlite3 is not installed beside tsync (MODULE_NOT_FOUND)');
  });
});
