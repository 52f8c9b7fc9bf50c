// Which root arguments name a directory on another machine, and how they split into user, host, port and path.
// Pure: no I/O, no ssh. The syntax (README "Remote roots"):
//
//   [user@]host:path              scp style: remote when a colon comes before the first slash
//   [user@][v6addr]:path          an IPv6 address in brackets
//   ssh://[user@]host[:port]/path URL style, the only way to give a port on the command line
//
// Decisions, each one the way scp, rsync or git already reads the same text:
// - `./a:b`, `/a:b`, `a/b:c` stay local (a slash before the colon); `./x:y` is the way to name a local `x:y`.
// - scp style: `host:` and `host:~` mean the remote user's home directory, `host:docs` and `host:~/docs` a path
//   relative to it, `host:/srv/x` an absolute path (as scp and rsync).
// - ssh:// style: the path keeps its leading slash, so `ssh://h/srv/x` is `/srv/x`; `ssh://h/~/x` is `x` in the
//   home directory, `ssh://h` and `ssh://h/~` the home directory itself (as git reads ssh URLs). No
//   percent-decoding: the path is taken as written.
// - Only a bare `~` or a leading `~/` is special; `~user/x` is a relative name like any other.
// - The remote path is handed to the agent as is (it is a byte string on the far side); the empty path means the
//   directory ssh logs in to, the home directory. Relative paths resolve from there.
// - An empty host (`:x`, `user@:x`) is a usage error rather than a guess, and so is a host or user starting with `-`:
//   OpenSSH would read it as an option (`-oProxyCommand=...`), an injection tsync refuses before running ssh.
import { UsageError } from '../errors.js';

export interface LocalRootSpec {
  readonly kind: 'local';
  readonly path: string;
}

export interface RemoteRootSpec {
  readonly kind: 'remote';
  readonly user?: string;
  readonly host: string;
  readonly port?: number;
  /** '' is the remote home directory; a relative path resolves from it. */
  readonly path: string;
  /** The argument as the user wrote it, for messages. */
  readonly text: string;
}

export type RootSpec = LocalRootSpec | RemoteRootSpec;

const URL_PREFIX = 'ssh://';

/** Parses one root argument; throws UsageError for a remote form that cannot be used. */
export function parseRootSpec(text: string): RootSpec {
  if (!namesRemoteRoot(text)) return { kind: 'local', path: text };
  return text.startsWith(URL_PREFIX) ? parseSshUrl(text) : parseScpStyle(text);
}

/** Whether a root argument is in a remote form (an ssh:// URL, or a colon before the first slash), usable or not. */
export function namesRemoteRoot(text: string): boolean {
  if (text.startsWith(URL_PREFIX)) return true;
  const colon = text.indexOf(':');
  const slash = text.indexOf('/');
  return colon >= 0 && (slash < 0 || colon < slash);
}

/** Two remote roots are refused: tsync drives one agent and keeps the state index on the local side. */
export function requireAtMostOneRemote(left: RootSpec, right: RootSpec): void {
  if (left.kind === 'remote' && right.kind === 'remote') {
    throw new UsageError(`both roots are remote (${left.text}, ${right.text}); one side must be local`);
  }
}

function parseScpStyle(text: string): RemoteRootSpec {
  const { user, rest } = splitUser(text, text.indexOf(':'));
  let host: string;
  let afterHost: string;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw new UsageError(`${text}: unclosed '[' in the host`);
    host = rest.slice(1, close);
    afterHost = rest.slice(close + 1);
    if (!afterHost.startsWith(':')) throw new UsageError(`${text}: expected ':' and a path after the bracketed host`);
  } else {
    const colon = rest.indexOf(':');
    host = rest.slice(0, colon);
    afterHost = rest.slice(colon);
  }
  const path = homeRelative(afterHost.slice(1));
  return remote(text, user, host, undefined, path);
}

function parseSshUrl(text: string): RemoteRootSpec {
  const rest = text.slice(URL_PREFIX.length);
  // the authority ends at the first slash; a bracketed IPv6 address holds colons but never a slash
  const slash = rest.indexOf('/');
  const authority = slash < 0 ? rest : rest.slice(0, slash);
  const rawPath = slash < 0 ? '' : rest.slice(slash);
  const { user, rest: hostPort } = splitUser(authority, authority.length);
  let host: string;
  let portText: string | undefined;
  if (hostPort.startsWith('[')) {
    const close = hostPort.indexOf(']');
    if (close < 0) throw new UsageError(`${text}: unclosed '[' in the host`);
    host = hostPort.slice(1, close);
    const after = hostPort.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) throw new UsageError(`${text}: unexpected '${after}' after the bracketed host`);
    portText = after === '' ? undefined : after.slice(1);
  } else {
    const parts = hostPort.split(':');
    if (parts.length > 2) throw new UsageError(`${text}: an IPv6 address must be in brackets (ssh://[::1]/path)`);
    host = parts[0] ?? '';
    portText = parts[1];
  }
  const port = portText === undefined ? undefined : parsePort(text, portText);
  const path = rawPath === '/~' ? '' : rawPath.startsWith('/~/') ? rawPath.slice(3) : rawPath;
  return remote(text, user, host, port, path);
}

/** `user@` before `end` (the host's colon, or the authority's end); the last `@` wins, as ssh reads `a@b@host`. */
function splitUser(text: string, end: number): { user: string | undefined; rest: string } {
  const at = text.lastIndexOf('@', end - 1);
  if (at < 0) return { user: undefined, rest: text };
  return { user: text.slice(0, at), rest: text.slice(at + 1) };
}

function homeRelative(path: string): string {
  if (path === '~') return '';
  return path.startsWith('~/') ? path.slice(2) : path;
}

function parsePort(text: string, portText: string): number {
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN;
  if (!(port >= 1 && port <= 65535)) throw new UsageError(`${text}: bad port '${portText}' (expected 1 to 65535)`);
  return port;
}

function remote(text: string, user: string | undefined, host: string, port: number | undefined, path: string): RemoteRootSpec {
  if (host === '') throw new UsageError(`${text}: empty host name (for a local path with a colon, write ./${text})`);
  checkSshWord(text, 'host', host);
  if (user !== undefined) {
    if (user === '') throw new UsageError(`${text}: empty user name before '@'`);
    checkSshWord(text, 'user', user);
  }
  return { kind: 'remote', ...(user === undefined ? {} : { user }), host, ...(port === undefined ? {} : { port }), path, text };
}

/** A host or user goes on ssh's command line: a leading '-' would be read as an option, blanks would split it. */
function checkSshWord(text: string, what: 'host' | 'user', word: string): void {
  if (word.startsWith('-')) throw new UsageError(`${text}: the ${what} '${word}' starts with '-' (refused: ssh would read it as an option)`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused here
  if (/[\s\x00-\x1f\x7f]/.test(word)) throw new UsageError(`${text}: the ${what} '${word}' contains a blank or control character`);
}
