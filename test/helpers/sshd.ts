// The remote-root tests' real OpenSSH server on 127.0.0.1: the harness itself is test/helpers/sshd-server.mjs, shared
// with `npm run bench:remote`, so it exists once.
export { SSHD_PATH, type Sshd, type SshdOptions, startSshd } from './sshd-server.mjs';
