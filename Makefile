# Makefile - the public interface of the project.  `make help` lists targets.
#
#   make H1          run hypothesis H1 end to end: build, ingest the corpus,
#                    run the grid, evaluate its criteria, plot, update FINDINGS.md
#   make findings    every hypothesis that has a grid, then FINDINGS.md
#   make test        every unit/CLI test, then again under ASan + UBSan (CI)
#
# Settings ----------------------------------------------------------------
DATA    ?= ../shared/data
# The kernel data set the hypotheses run over (engine/kset.h): the proposal's
# tables (the baseline's definition) or the measured bf16 kernels.  Each set
# keeps its results in a store and build files of its own; `make findings`
# runs both and reports every verdict on each.
KERNELS ?= proposal-h100
KSETS   := proposal-h100 h100-sxm-bf16
KSUF     = $(if $(filter proposal-h100,$(KERNELS)),,-$(KERNELS))
DB      ?= db/tam$(KSUF).db
CC      ?= cc
OPT     ?= -O2
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-function
PKGS    := libcjson yaml-0.1 sqlite3
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null || echo -I/usr/include/cjson)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lcjson -lyaml -lsqlite3)
# The engine alone needs no SQLite.
ENGINE_PKG_LIBS := $(shell pkg-config --libs libcjson yaml-0.1 2>/dev/null || echo -lcjson -lyaml)
XCFLAGS ?=
B       ?= build
CFLAGS  := -std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE $(OPT) -g $(WARN) -pthread \
           -MMD -MP $(PKG_CFLAGS) $(XCFLAGS)
LDLIBS  := $(PKG_LIBS) -lm -pthread
ENGINE_LDLIBS := $(ENGINE_PKG_LIBS) -lm
# The layers, bottom up: engine (model, hardware, kernel data, step model,
# scheduler, traces, workloads), db (the SQLite store), tools/harness (runner,
# grids, criteria, calibration, sweeps: library code), tools/cli (tam and its
# subcommands: options and printing).  Each layer sees only its own headers
# and those below it, so an upward #include does not compile.
INC_engine  := -Iengine
INC_db      := $(INC_engine) -Idb
INC_harness := $(INC_db) -Itools/harness -I$(B)
INC_cli     := $(INC_harness) -Itools/cli
INC_tests   := $(INC_cli) -Iengine/tests
# The source revision stored with every configuration: read once, when make
# starts, so that files rewritten during a run (plots, FINDINGS.md) cannot
# mark half of a grid "-dirty".  Recursive makes inherit it.
ifndef TAM_GIT_REV
TAM_GIT_REV := $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
endif
export TAM_GIT_REV

# What the built tam knows without being told: its source revision (tam
# --version) and where the data directory was when it was built (used when
# neither --data nor DATA names one), in a header rewritten only when they
# change.
$(B)/build_info.h: FORCE | $(B)/.deps
	@printf '#define TAM_VERSION "%s"\n#define TAM_DATA_DIR "%s"\n' '$(TAM_GIT_REV)' '$(abspath $(DATA))' > $@.new
	@cmp -s $@.new $@ && rm -f $@.new || mv $@.new $@
$(B)/tools/cli/tam.o $(B)/tools/harness/inputs.o: $(B)/build_info.h
FORCE:
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
HYPS    := $(sort $(notdir $(patsubst %/grid.json,%,$(wildcard experiments/H*/grid.json))))

ENGINE_SRC := $(sort $(wildcard engine/*.c))
DB_SRC     := $(sort $(wildcard db/*.c))
HARN_SRC   := $(sort $(wildcard tools/harness/*.c))
TOOL_SRC   := tools/cli/tam.c
CLI_SRC    := $(filter-out $(TOOL_SRC),$(sort $(wildcard tools/cli/*.c)))
ENGINE_TEST_SRC := $(sort $(wildcard engine/tests/t_*.c))
TEST_SRC   := $(ENGINE_TEST_SRC) $(sort $(wildcard tests/t_*.c))
# One static library per layer, linked top layer first.
LIB_ENGINE  := $(B)/libtam_engine.a
LIB_DB      := $(B)/libtam_db.a
LIB_HARNESS := $(B)/libtam_harness.a
LIB_CLI     := $(B)/libtam_cli.a
LIBS       := $(LIB_CLI) $(LIB_HARNESS) $(LIB_DB) $(LIB_ENGINE)
ALL_OBJ    := $(foreach s,ENGINE DB HARN CLI TOOL,$($(s)_SRC:%.c=$(B)/%.o))
TOOL_OBJ   := $(TOOL_SRC:%.c=$(B)/%.o)
TESTS      := $(patsubst %.c,$(B)/%,$(TEST_SRC))

.PHONY: all engine engine-link deps test quicktest install unit-test asan-test unit-test-asan clean distclean help \
        FORCE ingest findings findings-set factorial factorial-set DEFAULT all-hypotheses tier0 tier0x tier1 tier1x tier2 tier3 bench fuzz $(HYPS)
.DEFAULT_GOAL := all

all: bin/tam                          ## build the engine library and the tam CLI
engine: $(LIB_ENGINE)                 ## build only the engine library (needs no SQLite)

deps: $(B)/.deps                      ## check (as root: install) the Debian packages
$(B)/.deps: tools/deps.sh
	@sh tools/deps.sh
	@mkdir -p $(B) && touch $@

$(B)/engine/%.o: engine/%.c Makefile | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_engine) -c $< -o $@

$(B)/db/%.o: db/%.c Makefile | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_db) -c $< -o $@

$(B)/tools/harness/%.o: tools/harness/%.c Makefile | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_harness) -c $< -o $@

$(B)/tools/cli/%.o: tools/cli/%.c Makefile | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_cli) -c $< -o $@

$(LIB_ENGINE): $(ENGINE_SRC:%.c=$(B)/%.o)
$(LIB_DB): $(DB_SRC:%.c=$(B)/%.o)
$(LIB_HARNESS): $(HARN_SRC:%.c=$(B)/%.o)
$(LIB_CLI): $(CLI_SRC:%.c=$(B)/%.o)
$(LIBS):
	@rm -f $@
	ar rcs $@ $^

bin/tam: $(TOOL_OBJ) $(LIBS)
	@mkdir -p bin
	$(CC) $(CFLAGS) -o $@ $(TOOL_OBJ) $(LIBS) $(LDLIBS)

$(B)/tam: $(TOOL_OBJ) $(LIBS)
	$(CC) $(CFLAGS) -o $@ $(TOOL_OBJ) $(LIBS) $(LDLIBS)

# Engine tests link the engine library alone, without SQLite: each one is a
# program that uses the engine and nothing above it.
$(B)/engine/tests/%: engine/tests/%.c $(LIB_ENGINE) engine/tests/check.h engine/tests/models.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_engine) -Iengine/tests -o $@ $< $(LIB_ENGINE) $(ENGINE_LDLIBS)

$(B)/tests/%: tests/%.c $(LIBS) engine/tests/check.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(INC_tests) -o $@ $< $(LIBS) $(LDLIBS)
# the two store test programs share their fixtures
$(B)/tests/t_store $(B)/tests/t_store_runs: tests/store_fix.h

# The engine's contract, checked on the built library: it references no
# SQLite symbol and never prints or exits (errors come back as status codes);
# the one exception is common.o's invariant-failure report (TAM_ASSERT), which
# prints the broken invariant and aborts.
engine-link: $(LIB_ENGINE) $(B)/engine/tests/t_link ## the engine links and runs without SQLite, never prints or exits
	@bad=$$(nm -A -u $(LIB_ENGINE) | grep -v '^[^:]*:common.o:' | awk '{print $$NF}' | \
	    grep -E '^(sqlite3_.*|printf|puts|putchar|fputs|fprintf|vfprintf|exit|_exit|abort)$$' | sort -u); \
	if [ -n "$$bad" ]; then echo "engine-link: libtam_engine.a references: $$bad" >&2; exit 1; fi
	@$(B)/engine/tests/t_link

test: unit-test asan-test             ## what CI runs: every test, then again under sanitizers

quicktest: engine-link $(TESTS)       ## the C unit tests alone (no CLI, no sanitizers): the edit-compile-test loop
	@DATA=$(DATA) sh tests/run-unit.sh $(TESTS)

PREFIX ?= /usr/local
install: bin/tam                      ## install tam into $(PREFIX)/bin (it finds the data directory it was built with)
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 bin/tam $(DESTDIR)$(PREFIX)/bin/tam

unit-test: engine-link bin/tam $(TESTS) ## unit and CLI tests, normal build
	@DATA=$(DATA) TAM=bin/tam sh tests/run-unit.sh $(TESTS) tests/cli.sh tests/sweep.sh tests/calib.sh tests/scaleout.sh tests/bench.sh tests/tier2.sh tests/tier3.sh tests/harness.sh tests/factorial.sh tests/beyond.sh

asan-test:                            ## the same suite under ASan + UBSan
	@$(MAKE) --no-print-directory B=build-asan OPT=-O1 XCFLAGS='$(SAN)' unit-test-asan

unit-test-asan: engine-link $(TESTS) $(B)/tam
	@ASAN_OPTIONS=detect_leaks=1 DATA=$(DATA) TAM=$(B)/tam sh tests/run-unit.sh $(TESTS) tests/cli.sh tests/sweep.sh tests/calib.sh tests/scaleout.sh tests/bench.sh tests/tier2.sh tests/tier3.sh tests/harness.sh tests/factorial.sh tests/beyond.sh

ingest: bin/tam                       ## load the corpus's measured requests into $(DB) (once)
	@mkdir -p $(dir $(DB))
	bin/tam ingest --db $(DB) --data $(DATA)

# Each hypothesis: run the grid (stored runs are skipped, so this resumes),
# evaluate the pre-registered criteria, render figures, update FINDINGS.md.
# Figures are drawn from the proposal's set (FINDINGS shows them beside its tables).
$(HYPS): %: ingest                    ## make H1 ... : one hypothesis end to end (KERNELS=h100-sxm-bf16 for the measured set)
	bin/tam run --grid experiments/$@/grid.json --db $(DB) --data $(DATA) --kernels $(KERNELS)
	@[ ! -x experiments/$@/post-run.sh ] || experiments/$@/post-run.sh $(DB) $(DATA) $(KERNELS)
	bin/tam report --criteria experiments/$@/criteria.json --db $(DB)
	@[ "$(KERNELS)" != proposal-h100 ] || sh experiments/$@/plots.sh $(DB)
	@[ -n "$(NO_FINDINGS)" ] || sh tools/findings.sh $(DB) FINDINGS.md

# Tier 0 needs every hypothesis's verdict first.
tier0: NO_FINDINGS := 1
tier0: $(HYPS)                        ## build Tier 0 cumulatively from the confirmed corrections
	sh tools/tier0.sh $(DB) $(DATA) T0 $(KERNELS) build/tier0$(KSUF).json
	bin/tam report --criteria experiments/T0/criteria.json --db $(DB)
	@[ "$(KERNELS)" != proposal-h100 ] || sh experiments/T0/plots.sh $(DB)

tier0x: NO_FINDINGS := 1
tier0x: tier0                         ## exploratory: the same walk, the regression gate alone deciding
	sh tools/tier0.sh $(DB) $(DATA) T0x $(KERNELS) build/tier0x$(KSUF).json
	bin/tam report --criteria experiments/T0x/criteria.json --db $(DB)
	@[ "$(KERNELS)" != proposal-h100 ] || sh experiments/T0x/plots.sh $(DB)

# Tier 1: cross-validated one-trace calibration over the Tier 0 configuration.
tier1: NO_FINDINGS := 1
tier1: tier0                          ## Tier 1 calibration, cross-validated (table tier1_cv)
	bin/tam calibrate --cross-validate --config build/tier0$(KSUF).json --kernels $(KERNELS) --data $(DATA) --quiet -o build/tier1$(KSUF)-cv.csv
	sh tools/import-csv.sh $(DB) tier1_cv build/tier1$(KSUF)-cv.csv
	bin/tam report --criteria experiments/T1/criteria.json --db $(DB)

tier1x: NO_FINDINGS := 1
tier1x: tier0x                        ## exploratory: Tier 1's cross-validation over the T0x base
	bin/tam calibrate --cross-validate --config build/tier0x$(KSUF).json --kernels $(KERNELS) --data $(DATA) --quiet -o build/tier1x$(KSUF)-cv.csv
	sh tools/import-csv.sh $(DB) tier1x_cv build/tier1x$(KSUF)-cv.csv
	bin/tam report --criteria experiments/T1x/criteria.json --db $(DB)

# Tier 2 needs a measured profile from a real GPU run (tools/bench/README.md).
MEASURED ?= tools/bench/measured
tier2: NO_FINDINGS := 1
# Tier 1 (and so everything before it) is a prerequisite only when there is
# something to compare, so that `make tier2` without a measurement just says so.
tier2: bin/tam $(if $(wildcard $(MEASURED)/profile.json),tier1) ## Tier 2: Tier 1 again over the measured profile + GEMM table (table tier2_cv), when a GPU run left them
	@if [ -f $(MEASURED)/profile.json ] && [ -f $(MEASURED)/mfu/gemm/data.csv ]; then \
	    TAM=bin/tam sh tools/tier2.sh $(DB) $(DATA) build/tier0$(KSUF).json $(MEASURED) && \
	    bin/tam report --criteria experiments/T2/criteria.json --db $(DB); \
	elif [ -f $(MEASURED)/profile.json ]; then \
	    echo "tier2: $(MEASURED)/profile.json exists but $(MEASURED)/mfu/gemm/data.csv does not;" >&2; \
	    echo "tier2: re-derive both from the raw run: python3 tools/bench/harness.py derive RAWDIR" >&2; exit 1; \
	else \
	    echo "tier2: no measured hardware profile ($(MEASURED)/profile.json). Tier 2 needs the GPU"; \
	    echo "tier2: micro-benchmarks run once on an H100 (bash tools/bench/run.sh on the GPU machine,"; \
	    echo "tier2: see tools/bench/README.md); none has been run, so there is nothing to compare and"; \
	    echo "tier2: no number is reported (none is ever invented)."; \
	fi

# The shipped default preset: its arms keep their own kernel sets.
DEFAULT: ingest                       ## the default preset on the 14, the runs beyond them, the step-level checks
	bin/tam run --grid experiments/DEFAULT/grid.json --db $(DB) --data $(DATA)
	TAM=bin/tam sh tools/beyond.sh $(DB) $(DATA)
	bin/tam report --criteria experiments/DEFAULT/criteria.json --db $(DB)
	sh experiments/DEFAULT/plots.sh $(DB)
	@[ -n "$(NO_FINDINGS)" ] || sh tools/findings.sh $(DB) FINDINGS.md

# Tier 3: physical coefficients fitted through the simulator around the
# default preset (its own kernel set), cross-validated on held-out experiments.
tier3: ingest                         ## Tier 3: fitted physical coefficients, held-out cross-validation (tables tier3_points, tier3_fits)
	bin/tam calibrate --method tier3 --cross-validate --data $(DATA) --quiet -o build/tier3-points.csv --fits build/tier3-fits.csv
	sh tools/import-csv.sh $(DB) tier3_points build/tier3-points.csv
	sh tools/import-csv.sh $(DB) tier3_fits build/tier3-fits.csv
	bin/tam report --criteria experiments/T3/criteria.json --db $(DB)
	sh experiments/T3/plots.sh $(DB)
	@[ -n "$(NO_FINDINGS)" ] || sh tools/findings.sh $(DB) FINDINGS.md

all-hypotheses: findings              ## everything: H1..Hn, Tier 0, Tier 1, FINDINGS.md

# Every hypothesis and tier over each kernel set, each set in its own store
# (DB for the proposal's, DB with the set's name appended for the others).
DB_OF    = $(if $(filter proposal-h100,$(1)),$(DB),$(patsubst %.db,%-$(1).db,$(DB)))
findings:                             ## run every hypothesis and tier on both kernel sets (resumes), regenerate FINDINGS.md
	$(foreach k,$(KSETS),$(MAKE) --no-print-directory findings-set KERNELS=$(k) DB=$(call DB_OF,$(k)) && ) true
	$(MAKE) --no-print-directory DEFAULT KERNELS=proposal-h100 DB=$(DB) NO_FINDINGS=1
	$(MAKE) --no-print-directory tier3 KERNELS=proposal-h100 DB=$(DB) NO_FINDINGS=1
	$(foreach k,$(KSETS),$(MAKE) --no-print-directory factorial-set KERNELS=$(k) DB=$(call DB_OF,$(k)) && ) true
	sh tools/findings.sh $(DB) FINDINGS.md $(foreach k,$(filter-out proposal-h100,$(KSETS)),$(call DB_OF,$(k)))

# Issue 12: the factorial ablation over H1-H14 on each kernel set (cells
# already stored are reused; tools/factorial.sh), then its figures.
factorial:                            ## the factorial ablation over H1-H14 on both kernel sets (tables factorial_*, plots/FACTORIAL-*.png)
	$(foreach k,$(KSETS),$(MAKE) --no-print-directory factorial-set KERNELS=$(k) DB=$(call DB_OF,$(k)) && ) true
	sh tools/factorial-tables.sh plots $(DB) $(foreach k,$(filter-out proposal-h100,$(KSETS)),$(call DB_OF,$(k)))

factorial-set: ingest                 ## one kernel set's factorial cells and effect tables (KERNELS, DB)
	TAM=bin/tam sh tools/factorial.sh run $(DB) $(DATA) $(KERNELS)

findings-set: NO_FINDINGS := 1
findings-set: $(HYPS) tier0 tier0x tier1 tier1x tier2 ## one kernel set's whole chain (KERNELS, DB)

FUZZ_SECONDS ?= 60
fuzz:                                 ## build every libFuzzer target (clang, ASan+UBSan) into build-fuzz/, run each FUZZ_SECONDS (60)
	sh tests/fuzz/run.sh $(FUZZ_SECONDS)

# the regression test includes the fuzz harness
$(B)/engine/tests/t_fuzz_regress: tests/fuzz/fz_harness.h

bench: bin/tam                        ## speed and memory: largest workload, then the whole corpus vs its floor
	bin/tam bench --data $(DATA)
	bin/tam bench --corpus --data $(DATA)

clean:                                ## remove build outputs (keeps the database)
	rm -rf build build-asan build-fuzz build-bench bin

distclean: clean                      ## also remove the database and figures
	rm -f $(foreach k,$(KSETS),$(call DB_OF,$(k)) $(call DB_OF,$(k))-wal $(call DB_OF,$(k))-shm) plots/*.png

help:                                 ## list targets
	@grep -hE '^[a-zA-Z0-9_ $$()-]+:.*## ' Makefile | sed 's/:.*## /\t/'

-include $(ALL_OBJ:.o=.d)
