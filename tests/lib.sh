# lib.sh - what the shell suites (e2e.sh, robustness.sh, kill_test.sh) share,
# sourced from the repository root: the Python to use, the environment every
# tinychar run gets, and the pass/fail/skip counters and reporters.

PY=${PYTHON:-/usr/bin/python3}
[ -x "$PY" ] || PY=python3
# Under AddressSanitizer a refused huge allocation must return NULL like
# malloc does, not abort (tinychar then reports the bytes it needed).
export ASAN_OPTIONS="allocator_may_return_null=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
# OpenMP threads that spin while waiting slow training down many times over
# when another process shares the cores; sleeping waiters change only speed
# (results are bit-identical for any thread count, which e2e.sh checks).
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"

n_pass=0
n_fail=0
n_skip=0
start=$(date +%s)

pass() {
    n_pass=$((n_pass + 1))
    printf 'ok    %s\n' "$1"
}
fail() {
    n_fail=$((n_fail + 1))
    printf 'FAIL  %s: %s\n' "$1" "$2"
}
skip() {
    n_skip=$((n_skip + 1))
    printf 'skip  %s: %s\n' "$1" "$2"
}
