#!/bin/sh
# kill_test.sh - training never loses work.
#  1. SIGKILL at 50 seeded random moments of a run that saves after every step
#     (--eval-every 1), half of them aimed at the moment a checkpoint is being
#     written (DIR/last.ckpt.tmp exists): after each kill, last.ckpt and
#     best.ckpt (when present) load with `tinychar info`, and --resume
#     continues from last.ckpt for one more step. Prints the kills survived.
#  2. A full disk (a small tmpfs, when this user may mount one) and a file-size
#     limit (ulimit -f, with SIGXFSZ ignored and with it fatal): training
#     stops with a clear error and the checkpoints already saved are intact
#     (cmp against copies).
#  3. A read-only run directory (a read-only bind mount; as root chmod does not
#     stop writes, so without mount rights this is skipped): clear error,
#     checkpoints intact.
#  4. Resuming on a file with characters the checkpoint's vocabulary lacks:
#     an error listing them.
#
# Run from anywhere; TINYCHAR=path picks the binary, KILL_SEED=N the kill
# moments (default 5), KILL_COUNT=N their number (default 50). Needs python3.

set -u
cd "$(dirname "$0")/.." || exit 1
BIN=${TINYCHAR:-./tinychar}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
DATA=../shared/data
. tests/lib.sh
SEED=${KILL_SEED:-5}
KILLS=${KILL_COUNT:-50}

T=$(mktemp -d "${TMPDIR:-/tmp}/tinychar-kill.XXXXXX") || exit 1
mounts=
cleanup() {
    for m in $mounts; do umount "$m" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP


if [ ! -x "$BIN" ] || [ ! -f "$DATA/names.txt" ]; then
    fail setup "need $BIN (make) and $DATA/names.txt"
    exit 1
fi

# tc ARGS...: tinychar with a time limit; out, err, rc; $bad names a sanitizer
# report, a timeout or a death by signal.
tc() {
    timeout --foreground 120 "$BIN" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    bad=
    if grep -qE 'ERROR: [A-Za-z]*Sanitizer|runtime error:' "$T/err"; then
        bad="sanitizer report: $(grep -m 1 -E 'Sanitizer|runtime error' "$T/err" | cut -c 1-200)"
    elif [ "$rc" -ge 124 ]; then
        bad="exit $rc (timeout or signal)"
    fi
}
err_tail() {
    tail -n 1 "$T/err" | cut -c 1-200
}
# step_of CKPT: the step count stored in a checkpoint (CHECKPOINT.md: u64 at 64).
step_of() {
    "$PY" -c 'import struct, sys; print(struct.unpack_from("<Q", open(sys.argv[1], "rb").read(), 64)[0])' "$1"
}

head -n 2000 "$DATA/names.txt" >"$T/names.txt"
# A small model saved after every step: most of the time goes to evaluating
# and writing checkpoints (about 100 KB each, fsync'd), so kills land there.
TRAIN="--mode lines --hidden 64 --steps 1000000 --eval-every 1 --threads 1 --quiet"

# --- 1. SIGKILL at random moments ------------------------------------------
# kill_at.py: starts tinychar ARGS, then kills it with SIGKILL after DELAY
# seconds or, in "write" mode, as soon as DIR/last.ckpt.tmp appears (polled
# in a tight loop; give up after DELAY + 5 s). Prints "tmp" if the kill left
# a half-written last.ckpt.tmp behind, else "-".
cat >"$T/kill_at.py" <<'EOF'
import os, signal, subprocess, sys, time
mode, delay, run_dir = sys.argv[1], float(sys.argv[2]), sys.argv[3]
tmp = os.path.join(run_dir, "last.ckpt.tmp")
p = subprocess.Popen(sys.argv[4:], stdout=subprocess.DEVNULL,
                     stderr=open(os.path.join(run_dir, "..", "kill.err"), "wb"))
t0 = time.monotonic()
if mode == "write":
    time.sleep(delay)
    while not os.path.exists(tmp) and p.poll() is None and time.monotonic() - t0 < delay + 5:
        pass
else:
    time.sleep(delay)
if p.poll() is None:
    os.kill(p.pid, signal.SIGKILL)
p.wait()
print("tmp" if os.path.exists(tmp) else "-", p.returncode)
EOF
# The kill moments: a seeded list of (mode, delay) pairs.
"$PY" -c 'import random, sys
r = random.Random(int(sys.argv[1]))
for i in range(int(sys.argv[2])):
    # The first kill lands during start-up, before anything is saved.
    print("write" if i % 2 else "time", "%.3f" % (0.005 if i == 0 else r.uniform(0.0, 1.2)))' \
    "$SEED" "$KILLS" >"$T/moments"

K=$T/k/run
mkdir -p "$T/k"
survived=0
mid_write=0
no_ckpt=0
i=0
while read -r mode delay; do
    i=$((i + 1))
    if [ -f "$K/last.ckpt" ]; then
        set -- train "$T/names.txt" --resume "$K/last.ckpt" --quiet
    else
        # shellcheck disable=SC2086
        set -- train "$T/names.txt" $TRAIN --out "$K"
    fi
    mkdir -p "$K"
    res=$("$PY" "$T/kill_at.py" "$mode" "$delay" "$K" "$BIN" "$@")
    case $res in tmp*) mid_write=$((mid_write + 1)) ;; esac
    code=${res#* }
    if [ "$code" != -9 ]; then
        fail "kill $i ($mode, ${delay}s)" "tinychar was not killed: exit $code: $(tail -n 1 "$T/k/kill.err")"
        continue
    fi
    if [ ! -f "$K/last.ckpt" ]; then
        # Killed before the first save: nothing to lose yet, nothing to load.
        no_ckpt=$((no_ckpt + 1))
        survived=$((survived + 1))
        continue
    fi
    ok=1
    for f in last best; do
        [ -f "$K/$f.ckpt" ] || continue
        tc info "$K/$f.ckpt"
        if [ -n "$bad" ] || [ "$rc" -ne 0 ]; then
            fail "kill $i ($mode, ${delay}s)" "$f.ckpt does not load: $bad $(err_tail)"
            cp "$K/$f.ckpt" "$T/broken-$i-$f.ckpt"
            ok=0
        fi
    done
    [ $ok -eq 1 ] || break
    at=$(step_of "$K/last.ckpt")
    tc train "$T/names.txt" --resume "$K/last.ckpt" --stop-at $((at + 1)) --quiet
    if [ -n "$bad" ] || [ "$rc" -ne 0 ]; then
        fail "kill $i ($mode, ${delay}s)" "--resume from step $at fails: $bad $(err_tail)"
        break
    elif [ "$(step_of "$K/last.ckpt")" -ne $((at + 1)) ]; then
        fail "kill $i ($mode, ${delay}s)" "--resume from step $at saved step $(step_of "$K/last.ckpt")"
        break
    fi
    survived=$((survived + 1))
done <"$T/moments"
final=$( [ -f "$K/last.ckpt" ] && step_of "$K/last.ckpt" || echo none)
if [ "$survived" -eq "$KILLS" ] && [ "$mid_write" -gt 0 ]; then
    pass "SIGKILL: $survived of $KILLS kills survived ($mid_write during a checkpoint write, $no_ckpt before the first save; the run reached step $final)"
elif [ "$survived" -eq "$KILLS" ]; then
    fail "SIGKILL" "$survived of $KILLS survived, but no kill landed during a checkpoint write"
else
    fail "SIGKILL" "$survived of $KILLS kills survived"
fi

# --- a finished run whose checkpoints the disk tests must not damage --------
# prepare DIR: trains 3 steps into DIR and keeps copies of its checkpoints.
prepare() {
    # shellcheck disable=SC2086
    tc train "$T/names.txt" $TRAIN --stop-at 3 --out "$1"
    mkdir -p "$1.saved"
    cp "$1/last.ckpt" "$1/best.ckpt" "$1.saved/" 2>/dev/null
    [ "$rc" -eq 0 ] && [ -z "$bad" ] && [ -f "$1.saved/last.ckpt" ]
}
# intact NAME DIR: DIR's checkpoints equal the copies, load, and no
# temporary file is left behind.
intact() {
    for f in last best; do
        if ! cmp -s "$2/$f.ckpt" "$2.saved/$f.ckpt"; then
            fail "$1" "$f.ckpt changed or vanished"
            return 1
        fi
        tc info "$2/$f.ckpt"
        if [ "$rc" -ne 0 ]; then
            fail "$1" "$f.ckpt does not load: $(err_tail)"
            return 1
        fi
    done
    return 0
}
# refused NAME DIR PATTERN [ENV...]: resuming into DIR must fail with exit 1
# and a "tinychar:" line holding PATTERN, the checkpoints staying intact.
refused() {
    name=$1 dir=$2 pat=$3
    msg=$(grep '^tinychar:' "$T/err" | tail -n 1 | cut -c 11-200)
    cp "$T/err" "$T/refused.err"
    if [ -n "$bad" ]; then
        fail "$name" "$bad"
    elif [ "$rc" -ne 1 ]; then
        fail "$name" "exit $rc, want 1: $(err_tail)"
    elif ! grep '^tinychar:' "$T/err" | grep -qF -e "$pat"; then
        fail "$name" "no 'tinychar:' line with '$pat': $(err_tail)"
    elif intact "$name" "$dir"; then
        pass "$name: exit 1, checkpoints intact ($msg)"
    fi
}

# --- 2. a full disk ------------------------------------------------------------
F=$T/full
mkdir -p "$F"
if mount -t tmpfs -o size=1m tinychar-kill-test "$F" 2>/dev/null; then
    mounts="$mounts $F"
    if prepare "$F/run"; then
        # Fill what is left of the 1 MB, then try to continue.
        dd if=/dev/zero of="$F/filler" bs=4k 2>/dev/null
        tc train "$T/names.txt" --resume "$F/run/last.ckpt" --stop-at 10
        refused "full disk (tmpfs)" "$F/run" "No space left on device"
        if ls "$F/run"/*.tmp >/dev/null 2>&1; then
            fail "full disk (tmpfs)" "left a temporary file: $(ls "$F/run"/*.tmp)"
        fi
    else
        fail "full disk (tmpfs)" "could not train the first checkpoints: $(err_tail)"
    fi
else
    skip "full disk (tmpfs)" "cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN); the ulimit -f checks below remain"
fi

# ulimit -f below a checkpoint's size (in 512-byte blocks for sh; 40 KB is
# under the ~100 KB checkpoint). With SIGXFSZ ignored, write() fails with
# EFBIG: a clear error. With it at its default, the kernel kills tinychar
# mid-write: no message is possible, but the checkpoints must survive.
U=$T/ulimit
if prepare "$U/run"; then
    sh -c 'trap "" XFSZ; ulimit -f 80 && exec "$@"' sh timeout 120 "$BIN" train \
        "$T/names.txt" --resume "$U/run/last.ckpt" --stop-at 10 >"$T/out" 2>"$T/err"
    rc=$?
    bad=
    refused "file size limit (ulimit -f, SIGXFSZ ignored)" "$U/run" "File too large"
    sh -c 'ulimit -f 80 && exec "$@"' sh timeout 120 "$BIN" train \
        "$T/names.txt" --resume "$U/run/last.ckpt" --stop-at 10 >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -ne $((128 + 25)) ]; then
        fail "file size limit (ulimit -f, SIGXFSZ fatal)" "exit $rc, want death by SIGXFSZ (153)"
    elif intact "file size limit (ulimit -f, SIGXFSZ fatal)" "$U/run"; then
        pass "file size limit (ulimit -f, SIGXFSZ fatal): killed mid-write, checkpoints intact"
    fi
else
    fail "file size limit" "could not train the first checkpoints: $(err_tail)"
fi

# --- 3. a read-only run directory ----------------------------------------------
R=$T/ro
if prepare "$R/run"; then
    if mount --bind "$R/run" "$R/run" 2>/dev/null; then
        mounts="$R/run $mounts"
        if mount -o remount,bind,ro "$R/run" 2>/dev/null; then
            tc train "$T/names.txt" --resume "$R/run/last.ckpt" --stop-at 10
            refused "read-only run directory (bind mount)" "$R/run" "Read-only file system"
            # A fresh run into it is refused the same way.
            # shellcheck disable=SC2086
            tc train "$T/names.txt" $TRAIN --stop-at 2 --out "$R/run"
            refused "read-only run directory, fresh run" "$R/run" "Read-only file system"
        else
            skip "read-only run directory" "cannot remount a bind mount read-only here"
        fi
    elif [ "$(id -u)" -ne 0 ]; then
        chmod 555 "$R/run"
        tc train "$T/names.txt" --resume "$R/run/last.ckpt" --stop-at 10
        refused "read-only run directory (chmod 555)" "$R/run" "Permission denied"
        chmod 755 "$R/run"
    else
        skip "read-only run directory" "root ignores chmod and cannot bind-mount here"
    fi
else
    fail "read-only run directory" "could not train the first checkpoints: $(err_tail)"
fi

# --- 4. resuming on text with characters outside the vocabulary -------------
V=$T/vocab
if prepare "$V/run"; then
    # Enough lines for the validation split, so the vocabulary is what fails.
    { head -n 30 "$T/names.txt"; printf 'Zoe\nb\303\251a\n\346\227\245\n'; } >"$T/newchars.txt"
    tc train "$T/newchars.txt" --resume "$V/run/last.ckpt"
    refused "resume on unknown characters" "$V/run" "characters not in the model's vocabulary"
    for want in "'Z' U+005A" "'é' U+00E9" "'日' U+65E5"; do
        if ! grep -qF "$want" "$T/refused.err"; then
            fail "resume on unknown characters" "the list lacks $want: $(tail -n 1 "$T/refused.err")"
        fi
    done
    # More than ten: the first ten, then "...".
    { head -n 30 "$T/names.txt"; printf 'ABCDEFGHIJKLMNOP\n'; } >"$T/many.txt"
    tc train "$T/many.txt" --resume "$V/run/last.ckpt"
    if [ "$rc" -eq 1 ] && grep -qF "'J' U+004A, ..." "$T/err" && ! grep -qF "'K'" "$T/err"; then
        pass "resume on 16 unknown characters: lists ten, then '...'"
    else
        fail "resume on 16 unknown characters" "exit $rc: $(err_tail)"
    fi
else
    fail "resume on unknown characters" "could not train the first checkpoints: $(err_tail)"
fi

elapsed=$(($(date +%s) - start))
echo "kill_test: $n_pass passed, $n_fail failed, $n_skip skipped in ${elapsed}s"
[ "$n_fail" -eq 0 ]
