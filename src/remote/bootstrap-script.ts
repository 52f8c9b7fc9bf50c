// The POSIX sh script that ssh runs on the far side to start the agent, and the preamble it speaks. Pure: text only.
//
// Preamble: lines on the remote stdout, before the binary frames (the client reads them in bootstrap.ts):
//   TSYNC-ERROR <what> <details>       the far side cannot run the agent; the script exits 1. <what> is one of
//                                      node-missing, node-too-old, bundle.
//   TSYNC-NEED-BUNDLE <name> <size>    the cached bundle is missing or corrupt: the client writes exactly <size>
//                                      bytes of the bundle on stdin, nothing else, then waits for the next line.
//   TSYNC-AGENT <version> <protocol>   the agent's first line; binary frames follow at once, in both directions.
// Any other line (a login script's greeting) is ignored, and quoted if the session fails.
//
// The script, in order:
// 1. finds `node` on PATH or in the usual places (ssh sessions often have a short PATH), and needs major >= 20;
// 2. if `tsync` on PATH answers `tsync agent --protocol` with our protocol version, execs `tsync agent`;
// 3. else runs the cached bundle ${XDG_CACHE_HOME:-$HOME/.cache}/tsync/<name>, where <name> carries the version and the
//    sha256 prefix, after checking its sha256 (sha256sum, shasum, or node): a corrupt file is removed, never run.
//    A missing bundle is asked for (NEED-BUNDLE) and received by node itself, which reads exactly <size> bytes, checks
//    the sha256, writes a private temp file, fsyncs it and renames it into place: a concurrent run sees the old
//    name or the whole new file, never a torn one.
// Probes run with stdin from /dev/null: stdin is the channel, and its bytes belong to the bundle and the agent.
// The script and its node snippets use no single quote, so the whole can be single-quoted once for the login shell.
import { shellQuote } from './ssh-command.js';

export const NEED_BUNDLE = 'TSYNC-NEED-BUNDLE';
export const REMOTE_ERROR = 'TSYNC-ERROR';
export const MIN_NODE_MAJOR = 20;

export interface BundleIdentity {
  /** The file name in the remote cache: `agent-<version>-<sha256 prefix>.mjs`. */
  readonly name: string;
  readonly sha256: string;
  readonly size: number;
}

export function bundleName(version: string, sha256: string): string {
  return `agent-${version}-${sha256.slice(0, 16)}.mjs`;
}

// node -e: argv[1] = target path, argv[2] = size, argv[3] = sha256. Streams exactly size bytes from fd 0 (never
// more: what follows on stdin belongs to the agent) into a private temp file beside the target, hashing as it goes;
// only a complete file with the right hash is fsynced and renamed to the target name. A failure removes the temp file.
const RECEIVE_JS = [
  'const fs=require("fs"),path=require("path"),crypto=require("crypto");',
  'const [target,sizeText,sha]=process.argv.slice(1);const size=Number(sizeText);',
  'const tmp=target+".tmp-"+process.pid;',
  'const fail=(w)=>{try{fs.unlinkSync(tmp)}catch{}process.stdout.write("TSYNC-ERROR bundle "+w+"\\n");process.exit(1)};',
  'let fd;try{fs.mkdirSync(path.dirname(target),{recursive:true,mode:0o700});fd=fs.openSync(tmp,"wx",0o600)}catch(e){fail("cannot write "+tmp+": "+e.message)}',
  'const hash=crypto.createHash("sha256");const buf=Buffer.alloc(65536);let got=0;',
  'while(got<size){let n;try{n=fs.readSync(0,buf,0,Math.min(buf.length,size-got),null)}catch(e){if(e.code==="EAGAIN"){Atomics.wait(new Int32Array(new SharedArrayBuffer(4)),0,0,5);continue}fail("read: "+e.message)}',
  'if(n===0)break;const part=buf.subarray(0,n);hash.update(part);try{fs.writeSync(fd,part)}catch(e){fail("cannot write "+tmp+": "+e.message)}got+=n}',
  'if(got<size)fail("short read: "+got+" of "+size+" bytes");',
  'if(hash.digest("hex")!==sha)fail("sha256 mismatch after transfer");',
  'try{fs.fsyncSync(fd);fs.closeSync(fd);fs.renameSync(tmp,target)}catch(e){fail("cannot install "+target+": "+e.message)}',
].join('');

const HASH_JS = 'process.stdout.write(require("crypto").createHash("sha256").update(require("fs").readFileSync(process.argv[1])).digest("hex"))';

/** The script; its positional parameters are: protocol, sha256, size, bundle name. */
export const BOOTSTRAP_SCRIPT = `
proto=$1 sha=$2 size=$3 name=$4
node=
for n in "$(command -v node 2>/dev/null)" /usr/local/bin/node /usr/bin/node /opt/homebrew/bin/node /opt/local/bin/node "$HOME/.local/bin/node" "$HOME/.volta/bin/node"; do
  if [ -n "$n" ] && [ -f "$n" ] && [ -x "$n" ]; then node=$n; break; fi
done
if [ -z "$node" ]; then
  echo "${REMOTE_ERROR} node-missing no node on PATH ($PATH) nor in /usr/local/bin, /usr/bin, /opt/homebrew/bin"
  exit 1
fi
nv=$("$node" --version </dev/null 2>/dev/null) || nv=unknown
major=\${nv#v}
major=\${major%%.*}
case $major in ''|*[!0-9]*) major=0 ;; esac
if [ "$major" -lt ${MIN_NODE_MAJOR} ]; then
  echo "${REMOTE_ERROR} node-too-old $nv $node"
  exit 1
fi
t=$(command -v tsync 2>/dev/null) || t=
if [ -n "$t" ] && [ "$("$t" agent --protocol </dev/null 2>/dev/null)" = "$proto" ]; then exec "$t" agent; fi
umask 077
bundle=\${XDG_CACHE_HOME:-$HOME/.cache}/tsync/$name
if [ -f "$bundle" ]; then
  h=$(sha256sum <"$bundle" 2>/dev/null || shasum -a 256 <"$bundle" 2>/dev/null || "$node" -e '${HASH_JS}' "$bundle" </dev/null 2>/dev/null) || h=
  if [ "\${h%% *}" != "$sha" ]; then rm -f "$bundle"; fi
fi
if [ ! -f "$bundle" ]; then
  echo "${NEED_BUNDLE} $name $size"
  "$node" -e '${RECEIVE_JS}' "$bundle" "$size" "$sha" || exit 1
fi
exec "$node" "$bundle" agent
`;

/**
 * The command line ssh hands to the remote login shell: `sh -c '<script>' tsync-bootstrap <args>`. Run through sh
 * explicitly, so a login shell that is bash, zsh or dash behaves the same (a csh-family login shell is not supported:
 * it rejects newlines inside quotes).
 */
export function bootstrapCommand(protocol: number, bundle: BundleIdentity): string {
  return ['sh', '-c', shellQuote(BOOTSTRAP_SCRIPT), 'tsync-bootstrap', String(protocol), bundle.sha256, String(bundle.size), shellQuote(bundle.name)].join(' ');
}
