#!/bin/sh
# run.sh SECONDS FUZZER... - seeds a corpus for each libFuzzer target built
# by `make fuzz` (build/fuzz/<name>), runs it for SECONDS, and prints one line
# per target: executions, corpus size, and any finding (libFuzzer saves the
# crashing input as build/fuzz/artifacts/<name>-crash-...). Seed checkpoints
# come from ./tinychar. Exits 1 if any target found a problem.
set -u
cd "$(dirname "$0")/../.." || exit 1
secs=$1
shift
BIN=${TINYCHAR:-./tinychar}
W=build/fuzz
mkdir -p "$W/artifacts"
T=$(mktemp -d "${TMPDIR:-/tmp}/tinychar-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT

# Seeds. Checkpoints: tiny models of each kind, whole (mode byte 1) and
# without their CRC (mode byte 0: the target appends it).
C=$W/corpus
mkdir -p "$C/fuzz_ckpt" "$C/fuzz_tokenizer" "$C/fuzz_flags"
printf 'anna\nbob\ncarla\ndave\neve\nfred\ngina\nhal\nida\njo\nkim\n' >"$T/names.txt"
n=0
for flags in "--mode lines" "--optimizer sgd --lr 0.1" "--tokenizer byte"; do
    n=$((n + 1))
    # shellcheck disable=SC2086
    if "$BIN" train "$T/names.txt" $flags --hidden 2 --embed 2 --context 2 --layers 1 \
            --steps 2 --eval-every 1 --threads 1 --quiet --out "$T/run$n" 2>"$T/err"; then
        { printf '\001'; cat "$T/run$n/last.ckpt"; } >"$C/fuzz_ckpt/seed-$n-whole"
        size=$(wc -c <"$T/run$n/last.ckpt")
        { printf '\000'; head -c $((size - 4)) "$T/run$n/last.ckpt"; } >"$C/fuzz_ckpt/seed-$n-nocrc"
    else
        echo "fuzz: cannot make seed checkpoint $n: $(tail -n 1 "$T/err")"
    fi
done
printf '\000anna\nbob\n' >"$C/fuzz_tokenizer/ascii"
printf '\012caf\303\251 e\314\201 \346\227\245\346\234\254 \360\237\221\251\342\200\215\360\237\221\247\n' >"$C/fuzz_tokenizer/utf8-lines"
printf '\006\357\273\277a\r\nb\xff\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe2\x82' >"$C/fuzz_tokenizer/invalid-replace"
printf '\001\000\001\377\376binary' >"$C/fuzz_tokenizer/bytes"
printf -- '--hidden\00032\000--lr\0001e-3\000--mode\000lines\000file.txt' >"$C/fuzz_flags/typical"
printf -- '--steps\00018446744073709551615\000--val-frac\0000.5\000--out\000d\000--quiet\000a\000b' >"$C/fuzz_flags/all"
printf -- '--hidden\000-1\000--lr\000nan\000--help' >"$C/fuzz_flags/bad"

status=0
for fz in "$@"; do
    name=$(basename "$fz")
    log=$W/$name.log
    "$fz" -max_total_time="$secs" -print_final_stats=1 -rss_limit_mb=4096 \
        -artifact_prefix="$W/artifacts/$name-" "$C/$name" >"$log" 2>&1
    rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    corpus=$(ls "$C/$name" | wc -l)
    if [ "$rc" -eq 0 ]; then
        echo "fuzz: $name: ${execs:-?} executions in ${secs} s, corpus $corpus inputs, no findings"
    else
        status=1
        echo "fuzz: $name: FINDING after ${execs:-?} executions (exit $rc); see $log and $W/artifacts/"
        grep -m 3 -E 'ERROR|SUMMARY|deadly signal' "$log" | sed 's/^/    /'
    fi
done
exit $status
