// The root argument syntax (src/remote/root-spec.ts): which arguments are remote and how they split.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exitCodeOf } from '../../src/cli/exit-codes.js';
import { UsageError } from '../../src/errors.js';
import { parseRootSpec, requireAtMostOneRemote, type RootSpec } from '../../src/remote/root-spec.js';

type Expected = Omit<Extract<RootSpec, { kind: 'remote' }>, 'kind' | 'text'>;

const local: readonly string[] = ['./a:b', '/a:b', 'a/b:c', 'plain', '.', '..', '/', '', 'dir/', './ssh://x/y', '/srv/x@y:z', '~/notes', 'a/[::1]:x'];

const remotes: readonly [string, Expected][] = [
  // scp style
  ['laptop:notes', { host: 'laptop', path: 'notes' }],
  ['laptop:/srv/notes', { host: 'laptop', path: '/srv/notes' }],
  ['me@laptop:notes', { user: 'me', host: 'laptop', path: 'notes' }],
  ['laptop:', { host: 'laptop', path: '' }],
  ['laptop:~', { host: 'laptop', path: '' }],
  ['laptop:~/notes', { host: 'laptop', path: 'notes' }],
  ['laptop:~other/x', { host: 'laptop', path: '~other/x' }],
  ['laptop:a:b', { host: 'laptop', path: 'a:b' }],
  ['laptop:with space/é', { host: 'laptop', path: 'with space/é' }],
  ['laptop:x@y', { host: 'laptop', path: 'x@y' }],
  ['a@b@laptop:x', { user: 'a@b', host: 'laptop', path: 'x' }],
  ['[::1]:notes', { host: '::1', path: 'notes' }],
  ['me@[fe80::1%eth0]:/x', { user: 'me', host: 'fe80::1%eth0', path: '/x' }],
  ['[::1]:', { host: '::1', path: '' }],
  ['10.0.0.2:/backup', { host: '10.0.0.2', path: '/backup' }],
  // URL style
  ['ssh://laptop/srv/notes', { host: 'laptop', path: '/srv/notes' }],
  ['ssh://me@laptop:2222/srv/notes', { user: 'me', host: 'laptop', port: 2222, path: '/srv/notes' }],
  ['ssh://laptop', { host: 'laptop', path: '' }],
  ['ssh://laptop/', { host: 'laptop', path: '/' }],
  ['ssh://laptop/~', { host: 'laptop', path: '' }],
  ['ssh://laptop/~/notes', { host: 'laptop', path: 'notes' }],
  ['ssh://laptop:22', { host: 'laptop', port: 22, path: '' }],
  ['ssh://[::1]:2222/x', { host: '::1', port: 2222, path: '/x' }],
  ['ssh://[::1]/x', { host: '::1', path: '/x' }],
  ['ssh://me@[::1]/x', { user: 'me', host: '::1', path: '/x' }],
  ['ssh://laptop/a%20b', { host: 'laptop', path: '/a%20b' }],
  ['ssh://laptop/x:y', { host: 'laptop', path: '/x:y' }],
];

const refused: readonly [string, RegExp][] = [
  [':notes', /empty host/],
  ['me@:notes', /empty host/],
  ['@laptop:x', /empty user/],
  ['-oProxyCommand=id:y', /host '-oProxyCommand=id' starts with '-'/],
  ['ssh://-oProxyCommand=x/y', /starts with '-'/],
  ['-l@laptop:x', /user '-l' starts with '-'/],
  ['ho st:x', /blank or control/],
  ['ho\tst:x', /blank or control/],
  ['[::1:x', /unclosed/],
  ['[::1]x:y', /expected ':'/],
  ['ssh://', /empty host/],
  ['ssh://::1/x', /IPv6 address must be in brackets/],
  ['ssh://laptop:0/x', /bad port '0'/],
  ['ssh://laptop:65536/x', /bad port/],
  ['ssh://laptop:/x', /bad port ''/],
  ['ssh://laptop:22a/x', /bad port/],
  ['ssh://[::1]x/y', /unexpected 'x'/],
];

describe('parseRootSpec', () => {
  it.each(local)('%j is local', (text) => {
    expect(parseRootSpec(text)).toEqual({ kind: 'local', path: text });
  });

  it.each(remotes)('%j is remote', (text, expected) => {
    expect(parseRootSpec(text)).toEqual({ kind: 'remote', ...expected, text });
  });

  it.each(refused)('%j is a usage error', (text, message) => {
    let caught: unknown;
    try {
      parseRootSpec(text);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as Error).message).toMatch(message);
    expect(exitCodeOf(caught as UsageError)).toBe(2);
  });

  it('reads any argument starting with / or ./ as local', () => {
    fc.assert(
      fc.property(fc.constantFrom('/', './'), fc.string(), (prefix, rest) => {
        expect(parseRootSpec(prefix + rest)).toEqual({ kind: 'local', path: prefix + rest });
      }),
    );
  });
});

describe('requireAtMostOneRemote', () => {
  it('accepts one remote root on either side, or none', () => {
    for (const [a, b] of [
      ['laptop:x', './y'],
      ['./y', 'laptop:x'],
      ['./x', './y'],
    ] as const) {
      expect(() => requireAtMostOneRemote(parseRootSpec(a), parseRootSpec(b))).not.toThrow();
    }
  });

  it('refuses two remote roots with one line, exit 2', () => {
    let caught: unknown;
    try {
      requireAtMostOneRemote(parseRootSpec('a:x'), parseRootSpec('ssh://b/y'));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as Error).message).toBe('both roots are remote (a:x, ssh://b/y); one side must be local');
    expect(exitCodeOf(caught as UsageError)).toBe(2);
  });
});
