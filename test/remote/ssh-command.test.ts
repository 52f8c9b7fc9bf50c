// The ssh argv (src/remote/ssh-command.ts): the user's command line split by our tokenizer, our options, and the
// remote command quoted so that a real POSIX shell reads it back unchanged.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import type { RemoteRootSpec } from '../../src/remote/root-spec.js';
import { buildSshArgv, shellQuote, splitCommandLine } from '../../src/remote/ssh-command.js';

const spec: RemoteRootSpec = { kind: 'remote', host: 'laptop', path: 'notes', text: 'laptop:notes' };

describe('splitCommandLine', () => {
  it.each([
    ['ssh', ['ssh']],
    ['  ssh   -v  ', ['ssh', '-v']],
    ['ssh -i "my key" -o X=Y', ['ssh', '-i', 'my key', '-o', 'X=Y']],
    ["ssh -o 'ProxyCommand nc %h %p'", ['ssh', '-o', 'ProxyCommand nc %h %p']],
    [`'a b'c"d e"f`, ['a bcd ef']],
    ['"a\\"b\\\\c\\$d\\`e"', ['a"b\\c$d`e']],
    ['"a\\nb"', ['a\\nb']],
    ['a\\ b \\"', ['a b', '"']],
    ['\'\' ""', ['', '']],
    ['$HOME * ~ `x`', ['$HOME', '*', '~', '`x`']],
    ["'it''s'", ['its']],
    ['ssh\t-p\n22', ['ssh', '-p', '22']],
  ])('%j', (line, words) => {
    expect(splitCommandLine(line)).toEqual(words);
  });

  it.each(["ssh 'unclosed", 'ssh "unclosed', 'ssh \\', 'ssh "a\\"'])('%j is a usage error', (line) => {
    expect(() => splitCommandLine(line)).toThrow(UsageError);
  });
});

// words made mostly of what a shell treats specially, and any other text now and then
const shellSpecial = fc.constantFrom("'", '"', '\\', '$', '`', ' ', '\t', '\n', '*', '?', '~', '!', ';', '&', '|', '(', ')', '<', '>', '#', '=', '-', 'a', 'é');
const word = fc.oneof(
  fc.string({ unit: shellSpecial }),
  fc.string({ unit: 'binary' }).filter((s) => !s.includes('\0')),
);

describe('shellQuote', () => {
  it('is read back unchanged by sh and by splitCommandLine', () => {
    fc.assert(
      fc.property(word, (word) => {
        expect(splitCommandLine(shellQuote(word))).toEqual([word]);
        const r = spawnSync('sh', ['-c', `printf %s ${shellQuote(word)}`], { encoding: 'utf8' });
        expect(r.stdout).toBe(word);
      }),
      { numRuns: 60 },
    );
  });
});

describe('buildSshArgv', () => {
  const base = { spec, env: {}, stdinIsTty: false, remoteCommand: 'sh -c x' } as const;

  it('runs ssh with no terminal, BatchMode, keepalives, then -- host command', () => {
    expect(buildSshArgv(base)).toEqual({
      file: 'ssh',
      args: ['-T', '-o', 'BatchMode=yes', '-o', 'ServerAliveInterval=15', '-o', 'ServerAliveCountMax=3', '-o', 'ConnectTimeout=30', '--', 'laptop', 'sh -c x'],
    });
  });

  it('leaves BatchMode out when a person is at a terminal (ssh may ask for a passphrase)', () => {
    expect(buildSshArgv({ ...base, stdinIsTty: true }).args).not.toContain('BatchMode=yes');
  });

  it('passes the port and the user as options, never inside the host word', () => {
    const { args } = buildSshArgv({ ...base, spec: { ...spec, user: 'me', port: 2222 } });
    expect(args.slice(-7)).toEqual(['-p', '2222', '-l', 'me', '--', 'laptop', 'sh -c x']);
  });

  it('takes --ssh over TSYNC_SSH over ssh, the user words first', () => {
    expect(buildSshArgv({ ...base, env: { TSYNC_SSH: 'ssh -i k' } }).args.slice(0, 3)).toEqual(['-i', 'k', '-T']);
    const flagged = buildSshArgv({ ...base, sshFlag: '"/opt/my ssh" -o X=Y', env: { TSYNC_SSH: 'ssh -i k' } });
    expect(flagged.file).toBe('/opt/my ssh');
    expect(flagged.args.slice(0, 3)).toEqual(['-o', 'X=Y', '-T']);
    expect(buildSshArgv({ ...base, env: { TSYNC_SSH: '  ' } }).file).toBe('ssh');
  });

  it('refuses an empty command and a host that ssh would read as an option', () => {
    expect(() => buildSshArgv({ ...base, sshFlag: ' ' })).toThrow(UsageError);
    expect(() => buildSshArgv({ ...base, spec: { ...spec, host: '-oProxyCommand=id' } })).toThrow(/starts with '-'/);
  });
});
