#!/bin/sh
# deps.sh - make sure the Debian packages tinychar needs are installed.
# Usage: scripts/deps.sh build|test|demo|ci|bench
# Installs what is missing with apt-get when run as root; otherwise prints the
# exact command to run and fails, so the build stops with a clear sentence.
set -u
need=""
have_pc() { pkg-config --exists "$1" 2>/dev/null; }
command -v pkg-config >/dev/null 2>&1 || need="$need pkg-config"
have_pc libutf8proc || need="$need libutf8proc-dev"
case "${1:-build}" in
  test|demo|ci) have_pc check || need="$need check" ;;
esac
case "${1:-build}" in
  demo|ci) [ -r /usr/share/dict/words ] || need="$need wamerican" ;;
esac
case "${1:-build}" in
  ci|bench) /usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || need="$need python3-torch" ;;
esac
# PyTorch at its best for the benchmark: OpenBLAS rather than the reference BLAS.
case "${1:-build}" in
  bench) [ -e /usr/lib/x86_64-linux-gnu/libopenblas.so.0 ] || need="$need libopenblas0-pthread" ;;
esac
[ -z "$need" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "tinychar: installing missing packages:$need" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -q $need >&2 || { apt-get update -q >&2 && apt-get install -y -q $need >&2; } || {
    echo "tinychar: could not install:$need" >&2; exit 1; }
  exit 0
fi
echo "tinychar: missing Debian packages:$need" >&2
echo "tinychar: install them with:  sudo apt-get install$need" >&2
exit 1
