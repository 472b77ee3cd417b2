#!/bin/sh
# valgrind.sh BINARY - memcheck a small train + sample + eval + info: any
# memory error or leak fails the run.
set -eu
bin=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
head -300 ../shared/data/names.txt > "$tmp/small.txt"
# "possibly lost" is left out: libgomp keeps its thread pool (and its TLS)
# alive until exit, which valgrind reports as possibly lost.
vg="valgrind --error-exitcode=9 --leak-check=full --show-leak-kinds=definite,indirect --errors-for-leak-kinds=definite,indirect -q"
$vg "$bin" train "$tmp/small.txt" --mode lines --steps 30 --hidden 16 --eval-every 10 --out "$tmp/run" --threads 1 --quiet
$vg "$bin" sample "$tmp/run/best.ckpt" --num 3 --seed 1 --top-k 5 --top-p 0.9 > /dev/null
$vg "$bin" eval "$tmp/run/best.ckpt" "$tmp/small.txt" > /dev/null
$vg "$bin" info "$tmp/run/best.ckpt" > /dev/null
$vg "$bin" train "$tmp/small.txt" --resume "$tmp/run/last.ckpt" --quiet
echo "valgrind: train, sample, eval, info and resume clean"
