#!/bin/sh
# readme_commands.sh - runs every ./tinychar command of the README's code
# blocks, in order, as a newcomer would, and fails if any exits nonzero.
# The one liberty taken: `--time N` becomes `--time 3`, so the suite stays
# short (the full-length runs and their results are in the README itself).
# The commands run in a scratch directory laid out like a checkout next to
# ../shared, so they write runs/ there and not into the repository.
set -u
cd "$(dirname "$0")/.." || exit 1
root=$(pwd)
BIN=${TINYCHAR:-$root/tinychar}
case $BIN in /*) ;; *) BIN=$root/$BIN ;; esac
T=$(mktemp -d "${TMPDIR:-/tmp}/tinychar-readme.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
mkdir "$T/repo"
ln -s "$BIN" "$T/repo/tinychar"
ln -s "$root/../shared" "$T/shared"
awk '/^```/ { inb = !inb; next } inb && /^\.\/tinychar /' README.md |
    sed 's/ *#.*$//; s/--time [0-9]*/--time 3/' > "$T/commands"
n=0 failed=0
while IFS= read -r cmd; do
    n=$((n + 1))
    if (cd "$T/repo" && eval "timeout 120 $cmd") >"$T/out" 2>"$T/err"; then
        echo "ok    $cmd"
    else
        echo "FAIL  $cmd: $(tail -n 1 "$T/err")"
        failed=$((failed + 1))
    fi
done < "$T/commands"
echo "readme: $n commands, $failed failed"
[ "$n" -gt 0 ] && [ "$failed" -eq 0 ]
