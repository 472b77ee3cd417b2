# tinychar - build, test, benchmark.
#   make                 build ./tinychar (installs missing Debian packages as root)
#   make test            build and run every test suite
#   make NO_OMP=1 test   the same, serial build without OpenMP
#   make asan            build with AddressSanitizer + UBSan and run the tests
#   make valgrind        memcheck train/sample/eval/info/resume (PORTABLE build)
#   make kill-test       SIGKILL, full disk and read-only runs never lose a checkpoint
#   make fuzz            libFuzzer on the checkpoint loader, tokenizer, flag parser
#   make bench           speed against PyTorch (BENCH_QUICK=1 for a short run)
#   make demo            train on /usr/share/dict/words for about a minute and sample
#   make install         PREFIX=/usr/local DESTDIR=; make uninstall
#   make PORTABLE=1      build without -march=native
#   make clean

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -std=c11 -Wall -Wextra $(if $(WERROR),-Werror)
CPPFLAGS += -D_DEFAULT_SOURCE
# Let the compiler fuse a*b+c into one FMA instruction (an IEEE operation with
# one rounding; unlike -ffast-math it never reorders sums or drops NaN checks).
CFLAGS  += -ffp-contract=fast
# sqrtf and friends need not set errno, so they compile to one instruction.
CFLAGS  += -fno-math-errno
# -O2 in GCC 12 only vectorizes loops that need no runtime checks; elementwise
# loops (tanh, AdamW) need an alias check and a remainder loop to vectorize.
CFLAGS  += -fvect-cost-model=dynamic
# No code reads the floating-point exception flags, so a loop may compute both
# sides of a select (tanh's two branches, one with a division) and keep one;
# without this, GCC vectorizes such loops only where AVX-512 masks them.
CFLAGS  += -fno-trapping-math
ifdef PORTABLE
  VARIANT := portable
else
  CFLAGS += -march=native
endif

ifdef ASAN
  CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  LDFLAGS += -fsanitize=address,undefined
  VARIANT := $(VARIANT)asan
endif
ifdef NO_OMP
  VARIANT := $(VARIANT)noomp
  WARN += -Wno-unknown-pragmas
else
  OMPFLAGS := -fopenmp
endif
BUILD := build/$(or $(VARIANT),default)

# Evaluated when a recipe runs, i.e. after `deps` had the chance to install them.
UTF8PROC_CFLAGS = $(shell pkg-config --cflags libutf8proc)
UTF8PROC_LIBS   = $(shell pkg-config --libs libutf8proc)
CHECK_CFLAGS    = $(shell pkg-config --cflags check)
CHECK_LIBS      = $(shell pkg-config --libs check)

LIB_SRC := common/error.c common/rng.c common/mem.c common/crc32.c \
           common/fileio.c common/flags.c tokenizer/tokenizer.c data/data.c \
           model/matmul.c model/layers.c model/table.c model/model.c model/optim.c model/ckpt.c \
           sample/sampler.c train/evaluate.c plot/svg.c plot/pca.c plot/plot.c \
           model/gradcheck.c
APP_SRC := cli/cli.c cli/main.c train/train.c train/eval.c sample/sample.c \
           sample/info.c plot/plot_main.c train/gradcheck_main.c \
           train/lr_find_main.c
TESTS   := test_common test_tokenizer test_data test_model test_ckpt test_sampler \
           test_plot test_gradcheck

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
APP_OBJ := $(APP_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TESTS:%=$(BUILD)/tests/%)

.PHONY: all deps test unit e2e asan valgrind demo clean FORCE
all: tinychar

deps:
	@scripts/deps.sh build

# ./tinychar is a copy of the current variant's binary, so `make NO_OMP=1`
# and `make` each leave the right one in place.
tinychar: $(BUILD)/tinychar FORCE
	@cmp -s $< $@ || { cp $< $@.new && mv -f $@.new $@; }

$(BUILD)/tinychar: $(APP_OBJ) $(LIB_OBJ)
	$(CC) $(CFLAGS) $(OMPFLAGS) $(LDFLAGS) -o $@ $^ $(UTF8PROC_LIBS) -lm

$(BUILD)/%.o: %.c | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(OMPFLAGS) $(UTF8PROC_CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(LIB_OBJ) | test-deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(OMPFLAGS) $(UTF8PROC_CFLAGS) $(CHECK_CFLAGS) \
	  -o $@ $< $(LIB_OBJ) $(LDFLAGS) $(CHECK_LIBS) $(UTF8PROC_LIBS) -lm

.PHONY: test-deps
test-deps:
	@scripts/deps.sh test

unit: $(TEST_BIN)
	@set -e; for t in $(TEST_BIN); do echo "== $$t"; CK_FORK=no $$t; done

# The serial build's suite also checks that it trains to the very same
# checkpoint as the OpenMP build, so it builds that one too.
e2e: tinychar
ifdef NO_OMP
	@$(MAKE) --no-print-directory NO_OMP= build/default/tinychar
	@TINYCHAR_OTHER=build/default/tinychar tests/e2e.sh
else
	@tests/e2e.sh
endif

test: unit e2e reference robustness readme
	@echo "== all tests passed ($(or $(VARIANT),default) build)"

asan:
	$(MAKE) ASAN=1 test

# valgrind cannot run AVX-512 code, so this checks the PORTABLE=1 build.
valgrind:
	@$(MAKE) --no-print-directory PORTABLE=1 build/portable/tinychar
	@tests/valgrind.sh build/portable/tinychar

demo:
	@scripts/deps.sh demo
	@$(MAKE) --no-print-directory tinychar
	./tinychar train /usr/share/dict/words --mode lines --time 60 --out runs/words
	./tinychar sample runs/words/best.ckpt --num 20 --seed 1

clean:
	rm -rf build tinychar

-include $(LIB_OBJ:.o=.d) $(APP_OBJ:.o=.d)

# ---- the independent PyTorch reference (tests/reference/) ------------------
# ref_dump runs the C library on the reference cases; compare.py recomputes
# them with PyTorch (Debian's python3-torch) and compares, or, without torch,
# checks the committed fixture and says the live comparison was SKIPPED.
# TINYCHAR_REQUIRE_TORCH=1 turns a missing torch into a failure (for CI).
PYTHON ?= /usr/bin/python3

$(BUILD)/tests/ref_dump: tests/ref_dump.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(OMPFLAGS) $(UTF8PROC_CFLAGS) \
	  -o $@ $< $(LIB_OBJ) $(LDFLAGS) $(UTF8PROC_LIBS) -lm

.PHONY: reference reference-fixture
reference: $(BUILD)/tinychar $(BUILD)/tests/ref_dump
	@$(PYTHON) tests/reference/compare.py --tinychar $(BUILD)/tinychar \
	  --ref-dump $(BUILD)/tests/ref_dump

# Rewrites tests/reference/fixture.txt; run it only on purpose (needs torch).
reference-fixture:
	$(PYTHON) tests/reference/tinychar_ref.py --write-fixture tests/reference/fixture.txt

# ---- make bench (bench/): speed, not correctness --------------------------
# Prints one table: training examples/s at 1 and 2 threads, GFLOP/s against
# the measured FMA peak, generation and tokenizing speed, peak RSS, and the
# same model in PyTorch when $(PYTHON) has torch. BENCH_QUICK=1: one short
# repeat (under 2 minutes) instead of five (under 10); BENCH_REPEATS=N.
# peak.c is always built with -march=native: it measures the machine, not the build.
$(BUILD)/bench/peak.o: bench/peak.c bench/peak.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) -march=native -c -o $@ $<

$(BUILD)/bench/bench: bench/bench.c bench/peak.h $(BUILD)/bench/peak.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(WARN) $(CFLAGS) $(OMPFLAGS) $(UTF8PROC_CFLAGS) -pthread \
	  -o $@ $< $(BUILD)/bench/peak.o $(LIB_OBJ) $(LDFLAGS) $(UTF8PROC_LIBS) -lm

.PHONY: bench
bench: $(BUILD)/bench/bench
	@scripts/deps.sh bench || echo "tinychar: bench: PyTorch with OpenBLAS missing; its columns will say why"
	@$(BUILD)/bench/bench $(if $(BENCH_QUICK),--quick) \
	  $(if $(BENCH_REPEATS),--repeats $(BENCH_REPEATS)) \
	  --python $(PYTHON) --torch-script bench/torch_bench.py

# ---- robustness (tests/robustness.sh): hostile input text -----------------
# Every kind of text file a user may hand tinychar, generated by the script;
# under `make asan` the same binary copy (./tinychar) is the ASan build.
.PHONY: robustness
robustness: tinychar
	@tests/robustness.sh

# ---- make install / uninstall ---------------------------------------------
# make install [PREFIX=/usr/local] [DESTDIR=/staging/root]: the binary goes
# to $(DESTDIR)$(PREFIX)/bin, the man page to $(DESTDIR)$(PREFIX)/share/man/man1.
# `make install-check` installs into a temporary DESTDIR, runs what it
# installed, uninstalls, and checks both files are gone.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
INSTALL ?= install

.PHONY: install uninstall install-check
install: tinychar
	$(INSTALL) -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man1"
	$(INSTALL) -m 755 tinychar "$(DESTDIR)$(BINDIR)/tinychar"
	$(INSTALL) -m 644 tinychar.1 "$(DESTDIR)$(MANDIR)/man1/tinychar.1"

uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/tinychar" "$(DESTDIR)$(MANDIR)/man1/tinychar.1"

install-check: tinychar
	@d=$$(mktemp -d) && trap 'rm -rf "$$d"' EXIT && \
	  $(MAKE) --no-print-directory -s install DESTDIR="$$d" PREFIX=/usr && \
	  "$$d/usr/bin/tinychar" --version >/dev/null && \
	  { ! command -v man >/dev/null || man -l "$$d/usr/share/man/man1/tinychar.1" >/dev/null; } && \
	  $(MAKE) --no-print-directory -s uninstall DESTDIR="$$d" PREFIX=/usr && \
	  test ! -e "$$d/usr/bin/tinychar" && \
	  test ! -e "$$d/usr/share/man/man1/tinychar.1" && \
	  echo "install-check: install and uninstall under DESTDIR work"

# ---- kill-test (tests/kill_test.sh): training never loses work ------------
# SIGKILL at 50 seeded moments (half during checkpoint writes), a full disk,
# a file-size limit, a read-only run directory, unknown characters on resume.
.PHONY: kill-test
kill-test: tinychar
	@tests/kill_test.sh

# ---- make fuzz (tests/fuzz/): libFuzzer targets ---------------------------
# The checkpoint loader, the UTF-8 tokenizer and the flag parser, each built
# with clang's -fsanitize=fuzzer,address,undefined and run FUZZ_SECONDS
# seconds from seeds made by tests/fuzz/run.sh (needs Debian's clang).
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_TARGETS := fuzz_ckpt fuzz_tokenizer fuzz_flags
FUZZ_BIN := $(FUZZ_TARGETS:%=build/fuzz/%)
# matmul.c uses GCC vector builtins clang lacks; it is not under test here,
# so it is compiled by $(CC) without instrumentation and linked in.
FUZZ_SRC := $(filter-out model/matmul.c,$(LIB_SRC)) cli/cli.c

build/fuzz/matmul.o: model/matmul.c model/matmul.h | deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -std=c11 -O2 -c -o $@ $<

build/fuzz/%: tests/fuzz/%.c $(FUZZ_SRC) build/fuzz/matmul.o | deps
	@command -v $(FUZZ_CC) >/dev/null || { echo "tinychar: make fuzz needs clang: apt-get install clang"; exit 1; }
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	  -fno-sanitize-recover=undefined $(UTF8PROC_CFLAGS) -o $@ $< $(FUZZ_SRC) \
	  build/fuzz/matmul.o $(UTF8PROC_LIBS) -lm

.PHONY: fuzz
fuzz: tinychar $(FUZZ_BIN)
	@tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

# ---- readme (tests/readme_commands.sh): the README's commands, as written --
.PHONY: readme
readme: tinychar
	@tests/readme_commands.sh
