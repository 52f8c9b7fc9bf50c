// Start-up (issue 11): buildProgram registers only the command that argv names (commander builds every
// option object of each registered command up front). What must not change with that: every command is
// there when it is named, and the overview (no command, `help`, a misspelt name) still lists them all.
// The real commander program is built in process; nothing runs.
import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { buildProgram } from '../../src/cli/program.js';

const io: Io = { out: () => undefined, err: () => undefined, env: {} };
const namesOf = (argv: readonly string[]): string[] => buildProgram(io, () => undefined, argv).commands.map((c) => c.name());

describe('buildProgram registers the commands argv needs', () => {
  const all = namesOf(['node', 'tsync']);

  it('lists every command when argv names none (the overview, `help`, a misspelt name)', () => {
    expect(all).toEqual(expect.arrayContaining(['sync', 'watch', 'status', 'check', 'log', 'conflicts', 'plan', 'apply', 'doctor', 'trash', 'restore', 'agent']));
    expect(namesOf(['node', 'tsync', 'help', 'sync'])).toEqual(all);
    expect(namesOf(['node', 'tsync', 'statsu', 'a', 'b'])).toEqual(all);
    expect(namesOf(['node', 'tsync', '--help'])).toEqual(all);
  });

  it.each(['sync', 'watch', 'status', 'check', 'log', 'conflicts', 'plan', 'apply', 'doctor', 'trash', 'restore', 'agent'])('%s, when named, is registered alone', (name) => {
    expect(namesOf(['node', 'tsync', name, '--help'])).toEqual([name]);
  });
});
