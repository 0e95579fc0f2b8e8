# sprof: a sampling profiler for Linux. `make help` lists the targets.

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
LIBDIR    ?= $(PREFIX)/lib
MANDIR    ?= $(PREFIX)/share/man

CC        ?= cc
CFLAGS    ?= -O2 -g
LDFLAGS   ?=
# SAN=address,undefined or SAN=thread builds everything with sanitizers into
# its own directory.
SAN       ?=
ifeq ($(SAN),)
BUILD     ?= build
else
BUILD     ?= build-san-$(subst $(comma),-,$(SAN))
endif
comma := ,
# One name for each file whatever form BUILD was given in: a header's
# dependencies, which gcc writes (-MMD) under the name the object was made
# with, did not apply to an object made last with BUILD=$PWD/build (case
# 091 makes install so) when the next make said BUILD=build, and the object
# stayed stale after a header changed.
override BUILD := $(abspath $(BUILD))
# Objects and programs are remade when this file changes: its flags are
# theirs, and a build made before BUILD was absolute has its header
# dependencies under the other names.
MAKEFILE := $(firstword $(MAKEFILE_LIST))

ifeq ($(V),1)
Q :=
else
Q := @
endif

PKGS         := libunwind libdw libelf libzstd
PKG_CFLAGS   := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
WARN         := -Wall -Wextra -Wshadow -Wno-unused-parameter -Wstrict-prototypes -Wformat=2
ALL_CFLAGS   := -std=gnu11 $(WARN) -D_GNU_SOURCE -DSPROF_VERSION_STRING='"$(VERSION)"' \
                -Icommon $(PKG_CFLAGS) -MMD -MP $(CFLAGS)
ALL_LDFLAGS  := $(LDFLAGS)
# libsprof.so loads libunwind only when a sample first needs it
# (preload/unwind.c), by the soname of the libunwind it was built against
LIBUNWIND_SONAME ?= $(shell objdump -p "$$($(CC) -print-file-name=libunwind.so)" 2>/dev/null | \
                      awk '$$1 == "SONAME" { print $$2 }')
ifneq ($(LIBUNWIND_SONAME),)
ALL_CFLAGS   += -DSPROF_LIBUNWIND_SONAME='"$(LIBUNWIND_SONAME)"'
endif
# and libzstd when a chunk is first worth compressing (preload/compress.c)
ZSTD_SONAME  ?= $(shell objdump -p "$$($(CC) -print-file-name=libzstd.so)" 2>/dev/null | \
                  awk '$$1 == "SONAME" { print $$2 }')
ifneq ($(ZSTD_SONAME),)
ALL_CFLAGS   += -DSPROF_ZSTD_SONAME='"$(ZSTD_SONAME)"'
endif
ifneq ($(SAN),)
ALL_CFLAGS   += -fsanitize=$(SAN) -fno-omit-frame-pointer -fno-sanitize-recover=all
ALL_LDFLAGS  += -fsanitize=$(SAN)
endif

COMMON_SRC   := $(wildcard common/*.c)
PRELOAD_SRC  := $(wildcard preload/*.c)
ANALYZER_SRC := $(wildcard analyzer/*.c)

COMMON_OBJ      := $(COMMON_SRC:%.c=$(BUILD)/obj/%.o)
# libsprof.so writes, never reads, and loads libzstd itself (compress.c)
COMMON_PIC_OBJ  := $(filter-out common/reader.c common/zstd-linked.c,$(COMMON_SRC))
COMMON_PIC_OBJ  := $(COMMON_PIC_OBJ:%.c=$(BUILD)/pic/%.o)
# space.c last: its large arrays after every small variable (space.c)
PRELOAD_OBJ     := $(filter-out preload/space.c,$(PRELOAD_SRC))
PRELOAD_OBJ     := $(PRELOAD_OBJ:%.c=$(BUILD)/pic/%.o)
SPACE_OBJ       := $(BUILD)/pic/preload/space.o
ANALYZER_OBJ    := $(ANALYZER_SRC:%.c=$(BUILD)/obj/%.o)

LIBSPROF    := $(BUILD)/libsprof.so
REPORT      := $(BUILD)/sprof-report
DEPS_STAMP  := $(BUILD)/.deps-ok

.PHONY: all deps demo check unit e2e install uninstall clean help format
all: $(LIBSPROF) $(REPORT)

# Installs the Debian packages the build needs when a library is missing.
deps: $(DEPS_STAMP)
$(DEPS_STAMP):
	$(Q)scripts/install-deps.sh
	$(Q)mkdir -p $(@D) && touch $@

$(BUILD)/pic/%.o: %.c $(MAKEFILE) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $(@:$(CURDIR)/%=%)")
	$(Q)$(CC) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -Ipreload -c $< -o $@

$(BUILD)/obj/%.o: %.c $(MAKEFILE) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $(@:$(CURDIR)/%=%)")
	$(Q)$(CC) $(ALL_CFLAGS) -Ianalyzer -c $< -o $@

# -fini names no function: no DT_FINI, whose _fini (crti.o's, empty: the
# destructors are in .fini_array) sits at the end of the text, a page fault
# at every process's end for nothing (preload/sprof.h, SPROF_ONCE).
# -z now: every function libsprof.so calls is bound at its load, and its GOT
# is read-only after (full RELRO). Bound lazily, a function was bound at its
# first call in each process: a parent that forks before its writer's first
# write (a shell) left the write path's functions (realloc, write, read, ...)
# unbound, and every child of fork that wrote its file bound them again, 7
# lookups through every object's symbol tables, pages a child of fork has no
# page-table entries for: 7 page faults a fork (BENCHMARKS.md, session 31).
# A start binds the 95 functions with no more faults than the 35 it bound
# lazily (case 216 checks that a child of fork binds none).
$(LIBSPROF): $(PRELOAD_OBJ) $(COMMON_PIC_OBJ) $(SPACE_OBJ) $(MAKEFILE)
	@$(if $(Q),echo "  LD      $(@:$(CURDIR)/%=%)")
	$(Q)$(CC) -shared -o $@ $(filter %.o,$^) $(ALL_LDFLAGS) -Wl,--no-undefined -Wl,-z,nodelete \
		-Wl,-z,now -Wl,-z,relro -Wl,-fini=sprof_no_dt_fini -lpthread -ldl

$(REPORT): $(ANALYZER_OBJ) $(COMMON_OBJ) $(MAKEFILE)
	@$(if $(Q),echo "  LD      $(@:$(CURDIR)/%=%)")
	$(Q)$(CC) -o $@ $(filter %.o,$^) $(ALL_LDFLAGS) -ldw -lelf -lzstd -lz -lstdc++ -lm -lpthread

# The bundled example: build, profile it, print the flat report.
demo: all
	$(Q)scripts/demo.sh $(BUILD)

# The whole test suite; ends with "N passed, N failed".
check: all
	$(Q)BUILD=$(BUILD) SAN=$(SAN) CC=$(CC) tests/run.sh

# libFuzzer targets over the reader and the record parsers (fuzz/), built
# with clang and sanitizers into $(BUILD)/fuzz: fuzz-build only builds them
# (tests/e2e/210-fuzz.sh runs each for 20 seconds), fuzz runs each for
# FUZZ_SECONDS on a copy of fuzz/corpus that grows from run to run.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 300
FUZZ_DIR     := $(BUILD)/fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS  := -std=gnu11 $(WARN) -D_GNU_SOURCE -Icommon -Ianalyzer -Ifuzz $(PKG_CFLAGS) \
                -MMD -MP -O1 -g $(FUZZ_SAN) -fsanitize=fuzzer-no-link
FUZZ_OBJ     := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,$(COMMON_SRC) fuzz/model.c \
                  $(filter-out analyzer/main.c,$(ANALYZER_SRC)))
FUZZ_TARGETS := $(FUZZ_DIR)/fuzz-reader $(FUZZ_DIR)/fuzz-records

$(FUZZ_DIR)/obj/%.o: %.c $(MAKEFILE) | $(DEPS_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  FUZZCC  $(@:$(CURDIR)/%=%)")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_TARGETS): $(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/fuzz/%.o $(FUZZ_OBJ)
	@$(if $(Q),echo "  LD      $(@:$(CURDIR)/%=%)")
	$(Q)$(FUZZ_CC) -fsanitize=fuzzer $(FUZZ_SAN) -o $@ $^ -ldw -lelf -lzstd -lz -lstdc++ -lm \
		-lpthread

.PHONY: fuzz fuzz-build
fuzz-build: $(FUZZ_TARGETS)

fuzz: fuzz-build
	$(Q)for t in reader records; do \
		mkdir -p $(FUZZ_DIR)/corpus-$$t $(FUZZ_DIR)/crashes && \
		cp fuzz/corpus/$$t/* $(FUZZ_DIR)/corpus-$$t/ && \
		echo "fuzz-$$t: $(FUZZ_SECONDS) s on $(FUZZ_DIR)/corpus-$$t" && \
		$(FUZZ_DIR)/fuzz-$$t -max_total_time=$(FUZZ_SECONDS) -dict=fuzz/sprof.dict \
			-artifact_prefix=$(FUZZ_DIR)/crashes/$$t- $(FUZZ_DIR)/corpus-$$t || exit 1; \
	done

# The benchmarks (scripts/bench/bench.py, BENCHMARKS.md): sprof against no
# profiler, the floor, gperftools and perf record on eight workloads, 20
# minutes on 2 CPUs; figures, never pass/fail. BENCH_ARGS="--quick", or e.g.
# BENCH_ARGS="--workload cpu make --modes sprof floor --runs 5 --markdown".
BENCH_ARGS ?=
.PHONY: bench
bench: all
	$(Q)python3 scripts/bench/bench.py --build $(BUILD) $(BENCH_ARGS)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man7
	install -m 755 $(REPORT) $(DESTDIR)$(BINDIR)/sprof-report
	sed 's|@LIBDIR@|$(LIBDIR)|' scripts/sprof-record > $(DESTDIR)$(BINDIR)/sprof-record
	chmod 755 $(DESTDIR)$(BINDIR)/sprof-record
	install -m 755 scripts/sprof-ci-check $(DESTDIR)$(BINDIR)/sprof-ci-check
	install -m 644 $(LIBSPROF) $(DESTDIR)$(LIBDIR)/libsprof.so
	install -m 644 man/sprof-report.1 man/sprof-record.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/sprof-format.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 man/libsprof.7 $(DESTDIR)$(MANDIR)/man7/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sprof-report $(DESTDIR)$(BINDIR)/sprof-record \
		$(DESTDIR)$(BINDIR)/sprof-ci-check \
		$(DESTDIR)$(LIBDIR)/libsprof.so $(DESTDIR)$(MANDIR)/man1/sprof-report.1 \
		$(DESTDIR)$(MANDIR)/man1/sprof-record.1 $(DESTDIR)$(MANDIR)/man5/sprof-format.5 \
		$(DESTDIR)$(MANDIR)/man7/libsprof.7

format:
	clang-format -i common/*.[ch] preload/*.[ch] analyzer/*.[ch]

clean:
	rm -rf build build-san-*

help:
	@echo "targets:"
	@echo "  all (default)  build $(BUILD)/libsprof.so and $(BUILD)/sprof-report"
	@echo "  demo           profile the bundled example and print its flat report"
	@echo "  check          run the whole test suite (unit and end-to-end); with SAN=thread"
	@echo "                 only the ThreadSanitizer cases (tests/e2e/214-tsan-recorder.sh)"
	@echo "  bench          overhead, rate, stacks, size, RSS against gperftools and perf (BENCH_ARGS)"
	@echo "  fuzz           build the libFuzzer targets (clang) and run each FUZZ_SECONDS (300)"
	@echo "  deps           install missing Debian build dependencies"
	@echo "  install        install under DESTDIR/PREFIX (now $(DESTDIR)$(PREFIX))"
	@echo "  uninstall      remove what install put there"
	@echo "  format         clang-format the sources"
	@echo "  clean          remove build directories"
	@echo "variables: PREFIX DESTDIR CC CFLAGS LDFLAGS BUILD V=1 SAN=address,undefined|thread"

-include $(COMMON_OBJ:.o=.d) $(COMMON_PIC_OBJ:.o=.d) $(PRELOAD_OBJ:.o=.d) $(SPACE_OBJ:.o=.d) \
         $(ANALYZER_OBJ:.o=.d) \
         $(FUZZ_OBJ:.o=.d) $(FUZZ_TARGETS:$(FUZZ_DIR)/%=$(FUZZ_DIR)/obj/fuzz/%.d)
