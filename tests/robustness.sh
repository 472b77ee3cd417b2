#!/bin/sh
# robustness.sh - every kind of input text a user may point tinychar at, made
# by this script: tiny, degenerate, invalid UTF-8 of each kind (with the exact
# byte offset checked), control bytes, BOM, line endings, NFD, emoji, a huge
# vocabulary, a 5 MB line, binaries, paths that are not regular files, and a
# sparse file over 2^31 bytes. A refused input must exit with the documented
# code and a "tinychar:" line naming the problem; an accepted one must train a
# few steps and sample valid UTF-8. No run may print a sanitizer report or die
# on a signal. Cases tests/e2e.sh already has (empty file, one character in
# stream mode, a FIFO or directory given to train, ...) appear here only in
# other variants (other subcommand, mode, flag or tokenizer).
#
# Run from anywhere (it cd's to the repository root). TINYCHAR=path picks the
# binary, e.g. TINYCHAR=build/asan/tinychar tests/robustness.sh.
# ROBUST_FULL=1 also trains on the whole sparse 2 GiB file (about a minute and
# 7 GB of memory) instead of only checking that it is refused cleanly when
# memory is short. Needs python3 and timeout.

set -u
cd "$(dirname "$0")/.." || exit 1
BIN=${TINYCHAR:-./tinychar}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
. tests/lib.sh

T=$(mktemp -d "${TMPDIR:-/tmp}/tinychar-robust.XXXXXX") || exit 1
chmod 755 "$T"
bg_pid=
trap 'if [ -n "$bg_pid" ]; then kill -KILL "$bg_pid" 2>/dev/null; fi; rm -rf "$T"' EXIT
trap 'exit 130' INT TERM HUP


if [ ! -x "$BIN" ]; then
    fail setup "no binary $BIN (build with make)"
    exit 1
fi

# tc ARGS...: runs tinychar with a time limit; stdout to $T/out, stderr to
# $T/err, exit status in $rc. A sanitizer report, a death by signal or a
# timeout sets $bad to the reason (callers fail the case on it).
tc() {
    timeout --foreground "${TC_TIMEOUT:-120}" "$BIN" "$@" >"$T/out" 2>"$T/err"
    rc=$?
    bad=
    if grep -qE 'ERROR: [A-Za-z]*Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer' "$T/err"; then
        bad="sanitizer report: $(grep -m 1 -E 'Sanitizer|runtime error' "$T/err" | cut -c 1-200)"
    elif [ "$rc" -eq 124 ]; then
        bad="timed out after ${TC_TIMEOUT:-120} s"
    elif [ "$rc" -ge 128 ] && [ "$rc" -ne 130 ]; then
        bad="killed by signal $((rc - 128))"
    fi
}

err_tail() {
    tail -n 1 "$T/err" | cut -c 1-200
}

# check_exit NAME CODE PATTERN ARGS...: tinychar ARGS exits with CODE, prints
# nothing on stdout, and a "tinychar:" line on stderr contains PATTERN.
check_exit() {
    name=$1 code=$2 pat=$3
    shift 3
    tc "$@"
    if [ -n "$bad" ]; then
        fail "$name" "$bad"
    elif [ "$rc" -ne "$code" ]; then
        fail "$name" "exit $rc, want $code; stderr: $(err_tail)"
    elif [ -s "$T/out" ]; then
        fail "$name" "wrote to stdout: $(head -c 100 "$T/out")"
    elif ! grep '^tinychar:' "$T/err" | grep -qF -e "$pat"; then
        fail "$name" "no stderr line starting 'tinychar:' with '$pat'; stderr: $(err_tail)"
    else
        pass "$name"
    fi
}

# ok_run NAME ARGS...: tinychar ARGS exits 0 cleanly; reports only failures.
ok_run() {
    name=$1
    shift
    tc "$@"
    if [ -n "$bad" ]; then
        fail "$name" "$bad (tinychar $*)"
        return 1
    elif [ "$rc" -ne 0 ]; then
        fail "$name" "exit $rc from tinychar $*; stderr: $(err_tail)"
        return 1
    fi
    return 0
}

# valid_utf8 FILE: strict UTF-8 (no surrogates, nothing above U+10FFFF).
valid_utf8() {
    "$PY" -c 'import sys; open(sys.argv[1], "rb").read().decode("utf-8")' "$1" 2>/dev/null
}

# vocab_has CKPT CP...: prints, for each code point (hex), 1 if the
# checkpoint's vocabulary holds it and 0 if not ("1 0 1"). Layout: CHECKPOINT.md.
vocab_has() {
    "$PY" -c 'import struct, sys
b = open(sys.argv[1], "rb").read()
v = struct.unpack_from("<I", b, 28)[0]
voc = set(struct.unpack_from("<%di" % v, b, 240))
print(" ".join("1" if int(c, 16) in voc else "0" for c in sys.argv[2:]))' "$@"
}

# accept NAME FILE [FLAGS...]: FILE must train (a few steps, ending with an
# evaluation and a checkpoint), load in info, and sample valid UTF-8. The run
# directory is $T/run-<n>; its path is left in $run for further checks.
# TRAIN_STEPS overrides the default "--steps 4 --eval-every 2".
n_run=0
accept() {
    name=$1 file=$2
    shift 2
    n_run=$((n_run + 1))
    run=$T/run-$n_run
    # shellcheck disable=SC2086
    ok_run "$name: train" train "$file" ${TRAIN_STEPS:---steps 4 --eval-every 2} \
        --hidden 16 --embed 4 --batch 32 --threads 1 --quiet --out "$run" "$@" || return 1
    ok_run "$name: info" info "$run/last.ckpt" || return 1
    if ! tr -d '\000' <"$T/out" | cmp -s - "$T/out"; then
        fail "$name" "info printed a raw NUL byte"
        return 1
    fi
    ok_run "$name: sample" sample "$run/last.ckpt" --length 300 --num 3 --seed 1 || return 1
    if ! valid_utf8 "$T/out"; then
        fail "$name" "samples are not valid UTF-8"
        return 1
    fi
    return 0
}

# bad_utf8 NAME BYTES_PY [FLAGS...]: a file made of the Python bytes expression
# BYTES_PY must be refused (exit 1) with the line and byte offset of the first
# bad sequence as Python's strict decoder finds it; eval must name the same
# offset; with --tokenizer byte the file is accepted.
n_bad=0
bad_utf8() {
    name=$1 expr=$2
    shift 2
    n_bad=$((n_bad + 1))
    f=$T/bad-$n_bad.txt
    where=$("$PY" -c 'import sys
data = eval(sys.argv[2])
open(sys.argv[1], "wb").write(data)
try:
    data.decode("utf-8")
    print("valid")
except UnicodeDecodeError as e:
    print("line %d, byte offset %d" % (data[:e.start].count(b"\n") + 1, e.start))' "$f" "$expr")
    if [ "$where" = valid ]; then
        fail "invalid UTF-8: $name" "test bug: the bytes are valid UTF-8"
        return
    fi
    check_exit "invalid UTF-8: $name: refused at $where" 1 "invalid UTF-8 at $where" \
        train "$f" --out "$T/r" "$@"
}

# --- a small model the eval, resume and sample checks load ------------------
printf 'anna\nbob\ncarla\ndave\neve\nfred\ngina\nhal\nida\njo\nkim\nlea\n' >"$T/names.txt"
SMALL=$T/small
ok_run "setup: small lines model" train "$T/names.txt" --mode lines --hidden 16 \
    --steps 6 --eval-every 3 --threads 1 --quiet --out "$SMALL"
CK=$SMALL/last.ckpt
printf 'abcdefghij%.0s' 1 2 3 4 5 6 7 8 9 10 >"$T/ascii.txt"

# --- 1. tiny and degenerate texts -------------------------------------------
: >"$T/empty.txt"
printf 'a' >"$T/one.txt"
printf '\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n' >"$T/newlines.txt"
printf 'abcde' >"$T/short.txt"
check_exit "empty file: eval" 1 "empty" eval "$CK" "$T/empty.txt"
check_exit "empty file: byte tokenizer" 1 "empty" train "$T/empty.txt" --tokenizer byte --out "$T/r"
check_exit "empty file: as --val-file" 1 "empty" train "$T/names.txt" --mode lines --val-file "$T/empty.txt" --out "$T/r"
check_exit "one character: lines mode" 1 "--val-frac" train "$T/one.txt" --mode lines --out "$T/r"
check_exit "one character: byte tokenizer" 1 "too little" train "$T/one.txt" --tokenizer byte --out "$T/r"
# One character is a whole item to a lines model: scored, with its boundary.
if ok_run "one character: eval, lines model" eval "$CK" "$T/one.txt" --json; then
    if [ "$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["characters"])' "$T/out")" = 2 ]; then
        pass "one character: eval of a lines model scores it and its boundary"
    else
        fail "one character: eval, lines model" "$(cat "$T/out")"
    fi
fi
check_exit "only newlines: stream, too short for the split" 1 "too little" \
    train "$T/newlines.txt" --context 8 --out "$T/r"
accept "only newlines: stream, context 2" "$T/newlines.txt" --context 2 --val-frac 0.5 &&
    pass "only newlines: stream mode trains on a vocabulary of one newline"
check_exit "only newlines: eval, lines model" 1 "no non-empty lines" eval "$CK" "$T/newlines.txt"
check_exit "shorter than the context: --context 64" 1 "context of 64" \
    train "$T/ascii.txt" --context 64 --out "$T/r"
# Lines shorter than the context are fine in lines mode (the context is
# padded with the boundary token).
printf 'ab\ncd\nef\ngh\nij\nkl\nmn\nop\nqr\nst\n' >"$T/shortlines.txt"
accept "lines shorter than the context" "$T/shortlines.txt" --mode lines --context 16 &&
    pass "lines shorter than the context: lines mode trains"
"$PY" -c 'open(__import__("sys").argv[1], "w").write("a" * 200)' "$T/aaa.txt"
if accept "vocabulary of one character" "$T/aaa.txt"; then
    if [ "$(tr -d 'a\n' <"$T/out" | wc -c)" -ne 0 ]; then
        fail "vocabulary of one character" "sampled something other than 'a'"
    elif ok_run "vocabulary of one character: eval" eval "$run/last.ckpt" "$T/aaa.txt" --json &&
            "$PY" -c 'import json, sys; j = json.load(open(sys.argv[1]))
sys.exit(0 if abs(j["loss_nats"]) < 1e-6 else 1)' "$T/out"; then
        pass "vocabulary of one character: trains, samples only it, eval loss 0"
    else
        fail "vocabulary of one character" "eval: $(head -c 200 "$T/out") $(err_tail)"
    fi
    check_exit "shorter than the context: eval, stream model" 1 "context of 8" \
        eval "$run/last.ckpt" "$T/one.txt"
fi
printf 'aaa\naa\na\naaaa\naa\naaa\na\naa\naaa\naaaa\n' >"$T/alines.txt"
accept "vocabulary of one character, lines mode" "$T/alines.txt" --mode lines &&
    pass "vocabulary of one character, lines mode"

# --- 2. invalid UTF-8, each kind, with the first bad byte's offset ----------
bad_utf8 "lone continuation byte" 'b"abc\ndef\x80ghi\n"'
bad_utf8 "lone continuation at offset 0" 'b"\xbfabcdefghij"'
bad_utf8 "2-byte sequence truncated mid-text" 'b"hello\nw\xc3rld\n"'
bad_utf8 "3-byte sequence truncated mid-text" 'b"hello \xe2\x82 world\n"'
bad_utf8 "4-byte sequence truncated mid-text" 'b"smile \xf0\x9f\x98 please\n"'
bad_utf8 "sequence truncated at end of file (2 of 3)" 'b"price in euros: \xe2\x82"'
bad_utf8 "sequence truncated at end of file (3 of 4)" 'b"an emoji at the end \xf0\x9f\x98"'
bad_utf8 "sequence truncated at end of file (lead only)" 'b"line one\nline two\xc3"'
bad_utf8 "overlong 2-byte '/' (C0 AF)" 'b"path\xc0\xafetc\n"'
bad_utf8 "overlong 2-byte (C1 BF)" 'b"abc\xc1\xbfdef\n"'
bad_utf8 "overlong 3-byte '/' (E0 80 AF)" 'b"path\xe0\x80\xafetc\n"'
bad_utf8 "overlong 4-byte '/' (F0 80 80 AF)" 'b"path\xf0\x80\x80\xafetc\n"'
bad_utf8 "overlong NUL (C0 80)" 'b"java\xc0\x80string\n"'
bad_utf8 "UTF-16 high surrogate in UTF-8 (ED A0 80)" 'b"x\n\xed\xa0\x80y\n"'
bad_utf8 "UTF-16 low surrogate in UTF-8 (ED BF BF)" 'b"xy\xed\xbf\xbfz\n"'
bad_utf8 "surrogate pair as CESU-8" 'b"emoji \xed\xa0\xbd\xed\xb8\x80\n"'
bad_utf8 "U+110000 (F4 90 80 80)" 'b"beyond \xf4\x90\x80\x80 unicode\n"'
bad_utf8 "U+1FFFFF (F7 BF BF BF)" 'b"beyond \xf7\xbf\xbf\xbf unicode\n"'
for byte in F5 F6 F7 F8 F9 FA FB FC FD FE FF; do
    bad_utf8 "byte $byte" "b\"ok text\\nmore\\x$byte text\\n\""
done
bad_utf8 "Latin-1 file" '"Caf\u00e9 cr\u00e8me\nna\u00efve\n".encode("latin-1")'
bad_utf8 "Latin-1 accent at the end of the file" '"abc\nd\u00e9f\nr\u00e9sum\u00e9".encode("latin-1")'
bad_utf8 "Windows-1252 smart quotes" 'b"He said \x93hi\x94.\n"'
bad_utf8 "UTF-16 file with BOM (LE)" '"h\u00e9llo w\u00f6rld\n".encode("utf-16")'
bad_utf8 "UTF-16BE file with BOM" '"\ufeffh\u00e9llo\n".encode("utf-16-be")'
bad_utf8 "UTF-16LE file without BOM" '"h\u00e9llo w\u00f6rld\n".encode("utf-16-le")'
bad_utf8 "UTF-32 file with BOM" '"hello\n".encode("utf-32")'
bad_utf8 "valid text, then one bad byte 100 KB in" 'b"abc def\n" * 12800 + b"\xff" + b"tail\n"'
bad_utf8 "lines mode reports it too" 'b"anna\nb\xe9b\ncarla\n"' --mode lines
bad_utf8 "no normalization reports it too" 'b"ab\xe9\n"' --no-normalize
# The other ways in: --val-file, eval, and the hint toward --tokenizer byte.
printf 'caf\351 au lait\n' >"$T/latin1.txt"
check_exit "invalid UTF-8: --val-file names that file" 1 "latin1.txt: invalid UTF-8 at line 1, byte offset 3" \
    train "$T/names.txt" --mode lines --val-file "$T/latin1.txt" --out "$T/r"
printf 'abc\nab\342\202' >"$T/trunc-eof.txt"
check_exit "invalid UTF-8: eval, truncated at end of file" 1 "invalid UTF-8 at line 2, byte offset 6" \
    eval "$CK" "$T/trunc-eof.txt"
check_exit "invalid UTF-8: the message suggests --tokenizer byte" 1 "--tokenizer byte" \
    train "$T/latin1.txt" --out "$T/r"
"$PY" -c 'import sys
open(sys.argv[1], "wb").write("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e, na\u00efve fa\u00e7ade.\n".encode("latin-1") * 40)' "$T/latin1-long.txt"
accept "Latin-1 file with --tokenizer byte" "$T/latin1-long.txt" --tokenizer byte &&
    pass "invalid UTF-8: --tokenizer byte trains on a Latin-1 file, samples valid UTF-8"

# --invalid replace: every bad sequence becomes U+FFFD (one per maximal
# ill-formed subpart, as Python's errors="replace" does), the count and the
# first offset are said on stderr, and the vocabulary is exactly the
# characters Python's decoder gives.
"$PY" -c 'import sys
b = ("Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e\n" * 30).encode("latin-1")
b += b"emoji \xf0\x9f\x98 cut, surrogate \xed\xa0\x80, overlong \xc0\xaf, \xff\xfe end\n"
open(sys.argv[1], "wb").write(b)' "$T/replace.txt"
expect=$("$PY" -c 'import sys, unicodedata
s = unicodedata.normalize("NFC", open(sys.argv[1], "rb").read().decode("utf-8", "replace"))
print(s.count("\ufffd"), " ".join("%X" % ord(c) for c in sorted(set(s))))' "$T/replace.txt")
n_repl=${expect%% *}
chars=${expect#* }
if accept "--invalid replace" "$T/replace.txt" --invalid replace; then
    tc train "$T/replace.txt" --invalid replace --steps 1 --hidden 8 --threads 1 \
        --out "$T/replace-note"
    v=$("$PY" -c 'import struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack_from("<I", b, 28)[0]
print(" ".join("%X" % c for c in struct.unpack_from("<%di" % n, b, 240)))' "$run/last.ckpt")
    if ! grep '^tinychar:' "$T/err" | grep -qF "replaced $n_repl invalid UTF-8 sequences with U+FFFD (the first at line 1, byte offset 3)"; then
        fail "--invalid replace" "no note of $n_repl replacements at line 1, byte offset 3: $(grep -m 1 replaced "$T/err")"
    elif [ "$v" != "$chars" ]; then
        fail "--invalid replace" "vocabulary $v, Python says $chars"
    else
        pass "--invalid replace: $n_repl sequences replaced as Python does, trains, samples valid UTF-8"
    fi
    check_exit "--invalid replace is not stored: resume without it refuses" 1 "--invalid replace" \
        train "$T/replace.txt" --resume "$run/last.ckpt"
    ok_run "--invalid replace: resume with it" train "$T/replace.txt" --resume "$run/last.ckpt" \
        --invalid replace --stop-at 5 --quiet && pass "--invalid replace: resume with it"
    check_exit "--invalid replace: eval without it refuses" 1 "byte offset 3" eval "$run/last.ckpt" "$T/replace.txt"
    ok_run "--invalid replace: eval" eval "$run/last.ckpt" "$T/replace.txt" --invalid replace &&
        pass "--invalid replace: eval with it"
fi
check_exit "--invalid bogus: usage error" 2 "--invalid" train "$T/replace.txt" --invalid bogus
check_exit "--invalid replace: the prompt stays strict" 2 "byte offset 1" sample "$CK" --prompt "$(printf 'a\377')"

# --- 3. control bytes, BOM, line endings ------------------------------------
"$PY" -c 'import sys
s = "".join("a\x00b\x01c\x07d\x08e\x0bf\x0cg\x1bh\x7fi\u0085j\u009fk\t\n" for _ in range(30))
open(sys.argv[1], "w", encoding="utf-8", newline="").write(s)' "$T/controls.txt"
if accept "NUL and control bytes" "$T/controls.txt"; then
    if [ "$(vocab_has "$run/last.ckpt" 0 1 7 1B 7F 85 9F)" = "1 1 1 1 1 1 1" ]; then
        pass "NUL and control bytes: accepted as characters (U+0000 in the vocabulary)"
    else
        fail "NUL and control bytes" "vocabulary lacks a control character: $(vocab_has "$run/last.ckpt" 0 1 7 1B 7F 85 9F)"
    fi
fi
accept "NUL and control bytes, lines mode" "$T/controls.txt" --mode lines &&
    pass "NUL and control bytes, lines mode"
printf '\357\273\277' >"$T/bom-only.txt"
check_exit "BOM only: train" 1 "byte order mark" train "$T/bom-only.txt" --out "$T/r"
check_exit "BOM only: eval" 1 "byte order mark" eval "$CK" "$T/bom-only.txt"
"$PY" -c 'import sys
open(sys.argv[1], "w", encoding="utf-8").write("\ufeff" + "the quick brown fox\n" * 20)' "$T/bom.txt"
TRAIN_STEPS="--steps 2 --eval-every 2" accept "BOM then text" "$T/bom.txt"
if [ "$rc" -eq 0 ]; then
    tc train "$T/bom.txt" --steps 1 --hidden 8 --threads 1 --out "$T/bom-note"
    if ! grep -q 'byte order mark' "$T/err"; then
        fail "BOM then text" "no note about the byte order mark on stderr"
    elif [ "$(vocab_has "$run/last.ckpt" FEFF)" != 0 ]; then
        fail "BOM then text" "U+FEFF entered the vocabulary"
    else
        pass "BOM then text: dropped, said once, not in the vocabulary"
    fi
fi
"$PY" -c 'import sys
open(sys.argv[1], "wb").write(b"\xef\xbb\xbf" + b"anna\r\nbob\r\ncarla\r\n" * 10)' "$T/bom-crlf.txt"
tc eval "$CK" "$T/bom-crlf.txt" --json
if [ -n "$bad" ]; then
    fail "BOM + CRLF: eval" "$bad"
elif [ "$rc" -ne 0 ]; then
    fail "BOM + CRLF: eval" "exit $rc: $(err_tail)"
else
    pass "BOM + CRLF: eval of a lines model reads the file as its lines"
fi
"$PY" -c 'import sys
open(sys.argv[1], "wb").write(b"to be or not to be\r\nthat is the question\r\n" * 20)' "$T/crlf.txt"
if accept "CRLF, stream mode" "$T/crlf.txt"; then
    if [ "$(vocab_has "$run/last.ckpt" D A)" = "0 1" ]; then
        pass "CRLF, stream mode: read as LF, no CR in the vocabulary"
    else
        fail "CRLF, stream mode" "vocabulary CR, LF: $(vocab_has "$run/last.ckpt" D A)"
    fi
fi
# A lone CR is not a line ending (tokenizer.h: only CRLF is rewritten); it is
# kept as a character, so old-Mac text trains in stream mode.
"$PY" -c 'import sys
open(sys.argv[1], "wb").write(b"to be or not to be\rthat is the question\r" * 20)' "$T/cr.txt"
if accept "lone CR, stream mode" "$T/cr.txt"; then
    if [ "$(vocab_has "$run/last.ckpt" D A)" = "1 0" ]; then
        pass "lone CR, stream mode: kept as a character"
    else
        fail "lone CR, stream mode" "vocabulary CR, LF: $(vocab_has "$run/last.ckpt" D A)"
    fi
fi
"$PY" -c 'import sys
open(sys.argv[1], "wb").write(b"ab\r\r\ncd\n\ref\r\n\n\rgh\r" * 20)' "$T/mixed-eol.txt"
if accept "mixed CR, CRLF, LF, CR CR LF" "$T/mixed-eol.txt" --mode lines; then
    pass "mixed CR, CRLF, LF, CR CR LF: lines mode trains"
fi

# --- 4. Unicode: NFD, emoji, a vocabulary over 65,536 characters ------------
"$PY" -c 'import sys, unicodedata
s = "Cr\u00e8me br\u00fbl\u00e9e, na\u00efve caf\u00e9, \u00c5ngstr\u00f6m, \ud55c\uad6d\uc5b4\n" * 20
open(sys.argv[1], "w", encoding="utf-8").write(unicodedata.normalize("NFD", s))' "$T/nfd.txt"
TRAIN_STEPS="--steps 2 --eval-every 2" accept "NFD text" "$T/nfd.txt"
if [ "$rc" -eq 0 ]; then
    # 00E9 e-acute, D55C a precomposed Hangul syllable, 0301 combining acute,
    # 1112 a Hangul leading jamo.
    got=$(vocab_has "$run/last.ckpt" E9 D55C 301 1112)
    if [ "$got" = "1 1 0 0" ]; then
        pass "NFD text: normalized to NFC (é and 한 are single tokens)"
    else
        fail "NFD text" "vocabulary é 한 U+0301 U+1112: $got"
    fi
    if accept "NFD text, --no-normalize" "$T/nfd.txt" --no-normalize; then
        got=$(vocab_has "$run/last.ckpt" E9 D55C 301 1112)
        if [ "$got" = "0 0 1 1" ]; then
            pass "NFD text, --no-normalize: combining marks kept as tokens"
        else
            fail "NFD text, --no-normalize" "vocabulary é 한 U+0301 U+1112: $got"
        fi
    fi
fi
"$PY" -c 'import sys
s = "family \U0001F469\u200d\U0001F469\u200d\U0001F467\u200d\U0001F466 ok \U0001F44D\U0001F3FD rainbow \U0001F3F3\ufe0f\u200d\U0001F308 flag \U0001F1EB\U0001F1F7\n"
open(sys.argv[1], "w", encoding="utf-8").write(s * 30)' "$T/emoji.txt"
if accept "emoji ZWJ sequences and skin-tone modifiers" "$T/emoji.txt"; then
    got=$(vocab_has "$run/last.ckpt" 1F469 200D 1F3FD FE0F 1F1EB)
    if [ "$got" = "1 1 1 1 1" ]; then
        pass "emoji: ZWJ, modifier, variation selector and flags are characters"
    else
        fail "emoji" "vocabulary 👩 ZWJ 🏽 VS16 🇫: $got"
    fi
    ok_run "emoji: prompt" sample "$run/last.ckpt" --prompt "$(printf 'ok \360\237\221\215')" \
        --length 50 --seed 2 && valid_utf8 "$T/out" && pass "emoji: prompt with an emoji samples valid UTF-8"
fi
accept "emoji, byte tokenizer" "$T/emoji.txt" --tokenizer byte &&
    pass "emoji, byte tokenizer: samples stay valid UTF-8"
# 66,000 distinct characters: token ids no longer fit 16 bits. Trained with
# --stop-at (no evaluation: 20,000 softmaxes over V = 66,000 take a while).
"$PY" -c 'import sys
cps = [c for c in range(0x100, 0x40000)
       if not 0xD800 <= c <= 0xDFFF and not 0xE000 <= c <= 0xF8FF][:66000]
open(sys.argv[1], "w", encoding="utf-8").write("".join(map(chr, cps)) + "the end\n")' "$T/huge-vocab.txt"
HV=$T/huge-vocab
if ok_run "over 65,536 characters: train" train "$T/huge-vocab.txt" --no-normalize --steps 50 \
        --stop-at 2 --context 3 --embed 2 --hidden 4 --layers 1 --batch 16 --threads 1 \
        --quiet --out "$HV" &&
        ok_run "over 65,536 characters: info" info "$HV/last.ckpt" --json; then
    v=$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["vocab"])' "$T/out")
    if [ "$v" -le 65536 ]; then
        fail "over 65,536 characters" "vocabulary $v"
    elif ok_run "over 65,536 characters: resume" train "$T/huge-vocab.txt" \
            --resume "$HV/last.ckpt" --stop-at 4 --quiet &&
            ok_run "over 65,536 characters: sample" sample "$HV/last.ckpt" --length 300 --seed 1 &&
            valid_utf8 "$T/out" && [ "$(wc -c <"$T/out")" -gt 300 ]; then
        pass "over 65,536 characters: vocabulary $v trains, resumes, samples valid UTF-8"
    else
        fail "over 65,536 characters" "resume or sample failed: $(err_tail)"
    fi
fi

# --- 5. big: a 5 MB line, a sparse file over 2^31 bytes --------------------
"$PY" -c 'import random, sys
random.seed(5)
words = ["lorem", "ipsum", "dolor", "sit", "amet", "\u00e9t\u00e9", "\u65e5\u672c"]
out, n = [], 0
while n < 5 * 1024 * 1024:
    w = random.choice(words)
    out.append(w)
    n += len(w.encode()) + 1
open(sys.argv[1], "w", encoding="utf-8").write(" ".join(out))' "$T/longline.txt"
accept "5 MB line without a newline, stream mode" "$T/longline.txt" &&
    pass "5 MB line without a newline, stream mode"
check_exit "5 MB line, lines mode: one item cannot be split" 1 "--val-frac" \
    train "$T/longline.txt" --mode lines --out "$T/r"
accept "5 MB line, lines mode with --val-file" "$T/longline.txt" --mode lines \
    --val-file "$T/ascii.txt" && pass "5 MB line, lines mode with --val-file"

# A sparse file of 2^31 + 2^20 NUL bytes (valid UTF-8). With memory short it
# must be refused cleanly, naming its exact (64-bit) size; under ASan the
# allocation limit plays the part of ulimit -v, which ASan cannot run under.
SPARSE=$T/sparse.txt
if truncate -s $((2147483648 + 1048576)) "$SPARSE" 2>/dev/null; then
    if grep -q __asan_init "$BIN" 2>/dev/null; then
        ASAN_OPTIONS="$ASAN_OPTIONS:max_allocation_size_mb=1024" \
            TC_TIMEOUT=60 check_exit "file over 2^31 bytes, memory short: refused" 1 \
            "2148532224 bytes" train "$SPARSE" --out "$T/r"
    else
        # ulimit in a subshell, so it binds this one run only.
        (ulimit -v 1048576 && exec timeout 60 "$BIN" train "$SPARSE" --out "$T/r") \
            >"$T/out" 2>"$T/err"
        rc=$?
        name="file over 2^31 bytes, memory short: refused"
        if [ "$rc" -eq 1 ] && grep '^tinychar:' "$T/err" | grep -q '2148532224 bytes'; then
            pass "$name"
        else
            fail "$name" "exit $rc: $(err_tail)"
        fi
    fi
    if [ -n "${ROBUST_FULL:-}" ]; then
        TC_TIMEOUT=600 ok_run "file over 2^31 bytes: trains" train "$SPARSE" --steps 50 \
            --stop-at 2 --hidden 4 --threads 1 --quiet --out "$T/sparse-run" &&
            pass "file over 2^31 bytes: trains with 64-bit sizes"
    else
        skip "file over 2^31 bytes: trains" "set ROBUST_FULL=1 (about a minute, 7 GB)"
    fi
    rm -f "$SPARSE"
else
    skip "file over 2^31 bytes" "cannot create a sparse file in $T"
fi

# --- 6. binary files ----------------------------------------------------------
bad_utf8 "random bytes" '__import__("random").Random(7).randbytes(65536)'
bad_utf8 "gzip data" '__import__("gzip").compress(b"hello world\n" * 100, mtime=0)'
bad_utf8 "ELF header" 'b"\x7fELF\x02\x01\x01\x00" + bytes(8) + b"\x02\x00\x3e\x00\x01\x00\x00\x00\xc0\x10"'
check_exit "binary: a checkpoint given as text" 1 "invalid UTF-8" train "$CK" --out "$T/r"
"$PY" -c 'import random, sys
open(sys.argv[1], "wb").write(random.Random(8).randbytes(20000))' "$T/random.bin"
accept "binary file, --tokenizer byte" "$T/random.bin" --tokenizer byte &&
    pass "binary file, --tokenizer byte: trains, samples valid UTF-8"

# --- 7. paths that are not readable regular files ---------------------------
mkdir "$T/adir"
mkfifo "$T/fifo"
ln -s /dev/zero "$T/zero-link.txt"
ln -s "$T/adir" "$T/dir-link.txt"
ln -s "$T/nowhere.txt" "$T/dangling.txt"
check_exit "directory: eval" 1 "directory" eval "$CK" "$T/adir"
check_exit "directory: --val-file" 1 "directory" train "$T/names.txt" --mode lines --val-file "$T/adir" --out "$T/r"
check_exit "directory: --resume" 1 "directory" train "$T/names.txt" --resume "$T/adir"
check_exit "directory: symlink to one" 1 "directory" train "$T/dir-link.txt" --out "$T/r"
check_exit "FIFO: eval (no hang)" 1 "not a regular file" eval "$CK" "$T/fifo"
check_exit "FIFO: --val-file (no hang)" 1 "not a regular file" train "$T/names.txt" --mode lines --val-file "$T/fifo" --out "$T/r"
check_exit "FIFO: as checkpoint (no hang)" 1 "not a regular file" info "$T/fifo"
# A writer holding the FIFO open: still refused, not read forever.
sleep 30 >"$T/fifo" &
bg_pid=$!
check_exit "FIFO with a writer attached (no hang)" 1 "not a regular file" train "$T/fifo" --out "$T/r"
kill "$bg_pid" 2>/dev/null
wait "$bg_pid" 2>/dev/null
bg_pid=
check_exit "symlink to /dev/zero: train" 1 "not a regular file" train "$T/zero-link.txt" --out "$T/r"
check_exit "symlink to /dev/zero: eval" 1 "not a regular file" eval "$CK" "$T/zero-link.txt"
check_exit "symlink to /dev/zero: --resume" 1 "not a regular file" train "$T/names.txt" --resume "$T/zero-link.txt"
check_exit "/dev/urandom: train" 1 "not a regular file" train /dev/urandom --out "$T/r"
check_exit "missing file: --val-file" 1 "nowhere.txt" train "$T/names.txt" --mode lines --val-file "$T/nowhere.txt" --out "$T/r"
check_exit "missing file: eval" 1 "No such file" eval "$CK" "$T/nowhere.txt"
check_exit "missing file: --resume" 1 "No such file" train "$T/names.txt" --resume "$T/nowhere.ckpt"
check_exit "missing file: dangling symlink" 1 "No such file" train "$T/dangling.txt" --out "$T/r"
check_exit "missing file: a path through a file" 1 "Not a directory" train "$T/names.txt/x" --out "$T/r"
cp "$T/names.txt" "$T/unreadable.txt"
chmod 000 "$T/unreadable.txt"
if [ "$(id -u)" -ne 0 ]; then
    check_exit "unreadable file" 1 "Permission denied" train "$T/unreadable.txt" --out "$T/r"
elif command -v setpriv >/dev/null 2>&1 &&
        setpriv --reuid=65534 --regid=65534 --clear-groups test -x "$BIN" 2>/dev/null; then
    # Root reads anything; drop to nobody for this one run.
    timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$BIN" train "$T/unreadable.txt" --out "$T/unreadable-run" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 1 ] && grep '^tinychar:' "$T/err" | grep -q 'Permission denied'; then
        pass "unreadable file (as nobody): exit 1, Permission denied"
    else
        fail "unreadable file (as nobody)" "exit $rc: $(err_tail)"
    fi
else
    skip "unreadable file" "running as root (chmod 000 does not stop root) and cannot drop to nobody with setpriv"
fi

elapsed=$(($(date +%s) - start))
echo "robustness: $n_pass passed, $n_fail failed, $n_skip skipped in ${elapsed}s"
[ "$n_fail" -eq 0 ]
