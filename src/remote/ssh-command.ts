// The ssh command line that starts the agent on the far side. Pure: it builds an argv, it runs nothing.
//
// The command comes from `--ssh CMD`, else TSYNC_SSH, else `ssh` (as rsync's -e / RSYNC_RSH). CMD is split into words
// by splitCommandLine below, never by a shell, so it cannot run anything but the program it names.
import { UsageError } from '../errors.js';
import type { RemoteRootSpec } from './root-spec.js';

export interface SshArgvOptions {
  readonly spec: RemoteRootSpec;
  /** The --ssh value, if given. */
  readonly sshFlag?: string;
  /** Where TSYNC_SSH is read. */
  readonly env: NodeJS.ProcessEnv;
  /** Without a terminal (cron, CI) nothing may wait for a password or host-key prompt. */
  readonly stdinIsTty: boolean;
  /** The remote command: one shell command line, run by the remote user's login shell. */
  readonly remoteCommand: string;
  /** Seconds between keepalives; the link counts as dead after KEEPALIVE_COUNT unanswered ones. */
  readonly keepaliveSeconds?: number;
}

export interface SshArgv {
  readonly file: string;
  readonly args: readonly string[];
}

export const DEFAULT_KEEPALIVE_SECONDS = 15;
const KEEPALIVE_COUNT = 3;
const CONNECT_TIMEOUT_SECONDS = 30;

/**
 * The argv for `ssh [user options] [ours] -- host 'remote command'`. The user's own words come first: OpenSSH keeps
 * the first value given for an option, so `--ssh 'ssh -o ServerAliveInterval=5'` overrides our default, as does
 * ~/.ssh/config for anything tsync does not pass. Our options then: -T (no terminal: the channel carries binary frames),
 * BatchMode when there is no terminal, keepalives and a connect timeout (a hung link must end the run, not hang it),
 * the port and the user. `--` ends the options, so neither the host nor the command can be read as one; the host
 * is also refused earlier (root-spec) when it starts with '-', in case CMD is not OpenSSH.
 */
export function buildSshArgv(o: SshArgvOptions): SshArgv {
  const words = splitCommandLine(o.sshFlag ?? nonEmpty(o.env.TSYNC_SSH) ?? 'ssh');
  const [file, ...userArgs] = words;
  if (file === undefined) throw new UsageError(`--ssh: empty command`);
  if (o.spec.host.startsWith('-')) throw new UsageError(`the host '${o.spec.host}' starts with '-' (refused: ssh would read it as an option)`);
  const keepalive = o.keepaliveSeconds ?? DEFAULT_KEEPALIVE_SECONDS;
  const args = [...userArgs, '-T'];
  if (!o.stdinIsTty) args.push('-o', 'BatchMode=yes');
  args.push('-o', `ServerAliveInterval=${keepalive}`, '-o', `ServerAliveCountMax=${KEEPALIVE_COUNT}`, '-o', `ConnectTimeout=${CONNECT_TIMEOUT_SECONDS}`);
  if (o.spec.port !== undefined) args.push('-p', String(o.spec.port));
  if (o.spec.user !== undefined) args.push('-l', o.spec.user);
  args.push('--', o.spec.host, o.remoteCommand);
  return { file, args };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s;
}

/**
 * Splits a command line into words with a small subset of POSIX shell quoting, enough for `ssh -i "my key" -o X=Y`:
 * - blanks (space, tab, newline) separate words;
 * - '...' keeps everything inside literally;
 * - "..." keeps everything inside, except that a backslash escapes ", \, $ and ` (and is kept before anything else);
 * - outside quotes, a backslash makes the next character literal;
 * - adjacent pieces join into one word (`-o"X=Y"` is `-oX=Y`); '' and "" make an empty word.
 * No variables, globs, ~ or command substitution: $ and * are plain characters. An unclosed quote or a trailing
 * backslash is a usage error.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const unclosed = (what: string): never => {
    throw new UsageError(`--ssh/TSYNC_SSH: ${what} in: ${line}`);
  };
  while (i < line.length) {
    const c = line[i] as string;
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) unclosed('unclosed single quote');
      word += line.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      inWord = true;
      i++;
      for (;;) {
        if (i >= line.length) unclosed('unclosed double quote');
        const d = line[i] as string;
        if (d === '"') break;
        if (d === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1] as string)) {
          word += line[i + 1];
          i += 2;
        } else {
          word += d;
          i++;
        }
      }
      i++;
    } else if (c === '\\') {
      if (i + 1 >= line.length) unclosed('trailing backslash');
      word += line[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Quotes one word for a POSIX shell: the remote login shell reads the command ssh sends. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_./:=@%+,-]+$/.test(word)) return word;
  return `'${word.replaceAll("'", `'\\''`)}'`;
}
