#!/bin/bash
# Issue 12's table, re-run on this build: one source tree of what a backup must give back (an owner, an
# xattr, an ACL, a sparse file, hard links, setuid and sticky modes, symlink and directory mtimes), copied by
# `tsync sync --one-way`, `cp -a` and `rsync -aHAXS`, and what each replica kept. Needs root, setfattr and
# setfacl (the attr and acl packages) and rsync.   Usage: bash bench/fidelity.sh [parent dir]
# Everything is made in a fresh directory inside the parent (default: the system's temp dir); nothing is deleted.
set -euo pipefail
TSYNC="node $(cd "$(dirname "$0")/.." && pwd)/bin/tsync.js"
parent=${1:-${TMPDIR:-/tmp}}
mkdir -p "$parent"
W=$(mktemp -d "$parent/tsync-fidelity.XXXXXX")
cd "$W"
echo "work dir: $W" >&2
mkdir src
echo hi > src/owned && chown 1234:5678 src/owned
echo x > src/noted && setfattr -n user.note -v kept src/noted
echo acl > src/acl && setfacl -m u:1234:rw src/acl
truncate -s 100M src/sparse && printf 'data' | dd of=src/sparse bs=1 seek=50000000 conv=notrunc status=none
echo l > src/link1 && ln src/link1 src/link2
echo s > src/setuid && chmod 4755 src/setuid && mkdir src/sticky && chmod 1777 src/sticky
ln -s owned src/sym && touch -h -d 2020-01-02 src/sym && mkdir src/dir && touch -d 2020-01-03 src/dir
$TSYNC sync --one-way --quiet src tsync --state-dir st
cp -a src cpa
rsync -aHAXS src/ rsync/
row() { printf '| %s | %s | %s | %s | %s |\n' "$@"; }
owner() { stat -c %u:%g "$1/owned"; }
xattr() { getfattr --only-values -n user.note "$1/noted" 2>/dev/null || echo gone; }
acl() { getfacl -cp "$1/acl" 2>/dev/null | grep '^user:1234' || echo gone; }
sparse() { echo "$(du -k "$1/sparse" | cut -f1) KiB on disk, $(cmp -s src/sparse "$1/sparse" && echo same bytes || echo DIFFERENT)"; }
links() { echo "$(stat -c %h "$1/link1") links, one inode: $([ "$(stat -c %i "$1/link1")" = "$(stat -c %i "$1/link2")" ] && echo yes || echo no)"; }
modes() { echo "$(stat -c %a "$1/setuid") / $(stat -c %a "$1/sticky")"; }
mtimes() { echo "$(stat -c %y "$1/sym" | cut -c1-10) / $(stat -c %y "$1/dir" | cut -c1-10)"; }
row "kept" "source" "tsync sync --one-way" "cp -a" "rsync -aHAXS"
row "---" "---" "---" "---" "---"
row "owner:group (1234:5678)" "$(owner src)" "$(owner tsync)" "$(owner cpa)" "$(owner rsync)"
row "user.note xattr" "$(xattr src)" "$(xattr tsync)" "$(xattr cpa)" "$(xattr rsync)"
row "POSIX ACL entry" "$(acl src)" "$(acl tsync)" "$(acl cpa)" "$(acl rsync)"
row "100 MiB sparse file" "$(sparse src)" "$(sparse tsync)" "$(sparse cpa)" "$(sparse rsync)"
row "two hard links" "$(links src)" "$(links tsync)" "$(links cpa)" "$(links rsync)"
row "setuid file / sticky dir" "$(modes src)" "$(modes tsync)" "$(modes cpa)" "$(modes rsync)"
row "symlink / dir mtime" "$(mtimes src)" "$(mtimes tsync)" "$(mtimes cpa)" "$(mtimes rsync)"
