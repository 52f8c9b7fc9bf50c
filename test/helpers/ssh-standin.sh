#!/bin/sh
# A stand-in for ssh in fast unit tests (`--ssh test/helpers/ssh-standin.sh`): it reads ssh's options the way
# OpenSSH does, ignores them and the host, and runs the remote command with sh on this machine, in this
# environment. What it cannot stand in for (the network, authentication, sshd's session environment) is what the
# tests against the real sshd (test/helpers/sshd.ts) cover.
while [ $# -gt 0 ]; do
  case $1 in
    --) shift; break ;;
    -[BbcDEeFIiJLlmOoPpQRSWw]) shift 2 ;; # an option with its value in the next word
    -*) shift ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "ssh-standin: no host" >&2; exit 255; }
shift # the host
# ssh joins the command words with spaces and the remote login shell reads the result
exec sh -c "$*"
