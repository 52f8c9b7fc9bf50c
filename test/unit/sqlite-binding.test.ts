// Where the CLI finds better-sqlite3's compiled addon (src/store/sqlite-binding.ts): the bundle holds better-sqlite3's
// JavaScript, so the addon is found by path in the installed package, real folders in a temp dir here.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { addonPathIn, withNativeBinding } from '../../src/store/sqlite-binding.js';

function packageDir(builds: readonly string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'tsync-sqlite-binding-'));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  for (const b of builds) {
    mkdirSync(join(dir, 'build', b), { recursive: true });
    writeFileSync(join(dir, 'build', b, 'better_sqlite3.node'), 'not really an addon');
  }
  return dir;
}

describe("better-sqlite3's compiled addon", () => {
  it('is the Release build where there is one, else the Debug build, else none', () => {
    const both = packageDir(['Debug', 'Release']);
    expect(addonPathIn(both)).toBe(join(both, 'build', 'Release', 'better_sqlite3.node'));
    const debug = packageDir(['Debug']);
    expect(addonPathIn(debug)).toBe(join(debug, 'build', 'Debug', 'better_sqlite3.node'));
    expect(addonPathIn(packageDir([]))).toBeNull();
  });

  it("is found in the installed package, and handed to better-sqlite3 by path with the caller's options", () => {
    const options = withNativeBinding({ timeout: 5000 });
    expect(options.timeout).toBe(5000);
    expect(options.nativeBinding).toMatch(/[\\/]better-sqlite3[\\/]build[\\/](Release|Debug)[\\/]better_sqlite3\.node$/);
  });
});
