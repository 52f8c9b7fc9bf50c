// The single-file agent that `npm run build` makes for far sides without tsync (scripts/bundle.mjs): it must run
// alone, copied outside this checkout where no node_modules can be found, and carry no native dependency.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/cli/version.js';
import { AGENT_PROTOCOL_VERSION } from '../../src/remote/agent-version.js';
import { runCli } from '../helpers/cli.js';
import { bundlePath, remoteSide } from '../helpers/remote-side.js';

describe('the agent bundle', () => {
  it('exists after the build and imports no better-sqlite3', () => {
    expect(existsSync(bundlePath)).toBe(true);
    const text = readFileSync(bundlePath, 'utf8');
    expect(text).not.toMatch(/better-sqlite3/);
    // nothing but node: built-ins and the optional xattr addon (loaded by require() on first use). esbuild puts
    // the bundle's own imports at the start of a line; an indented `import … from` is a bundled library's doc
    // comment (p-queue's has some), not an import
    const specifiers = [...text.matchAll(/(?:^import\s*(?:[\w{}\s,*]+from\s*)?|require\()\s*["']([^"']+)["']/gm)].map((m) => m[1]);
    expect(specifiers.filter((s) => !s?.startsWith('node:') && s !== '@napi-rs/xattr')).toEqual([]);
  });

  it('runs alone from a directory outside the checkout: --protocol, then the first line and a clean exit', () => {
    const side = remoteSide();
    const lone = join(side.dir, 'tsync-agent.mjs');
    copyFileSync(bundlePath, lone);
    const protocol = spawnSync(process.execPath, [lone, 'agent', '--protocol'], { cwd: side.dir, encoding: 'utf8', env: side.env });
    expect([protocol.status, protocol.stdout, protocol.stderr]).toEqual([0, `${AGENT_PROTOCOL_VERSION}\n`, '']);
    const agent = spawnSync(process.execPath, [lone, 'agent'], { cwd: side.dir, encoding: 'utf8', env: side.env, input: '', timeout: 30_000 });
    expect([agent.status, agent.stdout, agent.stderr]).toEqual([0, `TSYNC-AGENT ${packageVersion()} ${AGENT_PROTOCOL_VERSION}\n`, '']);
    const usage = spawnSync(process.execPath, [lone, 'serve'], { cwd: side.dir, encoding: 'utf8', env: side.env });
    expect([usage.status, usage.stderr]).toEqual([2, 'usage: node tsync-agent.mjs agent [--protocol]\n']);
  });

  it('speaks as `tsync agent` does, which the main help does not list', () => {
    expect(runCli(['agent', '--protocol'])).toMatchObject({ code: 0, stdout: `${AGENT_PROTOCOL_VERSION}\n` });
    expect(runCli(['agent'], { timeoutMs: 30_000 })).toMatchObject({ code: 0, stdout: `TSYNC-AGENT ${packageVersion()} ${AGENT_PROTOCOL_VERSION}\n` });
    expect(runCli(['--help']).stdout).not.toMatch(/agent/);
  });
});
