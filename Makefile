# SPDX-License-Identifier: GPL-2.0
#
# KVM x86 MMU series: base, work tree, builds, tests and benchmarks.
# See README.md.  The kernel work tree (build/linux) is built from the base
# plus patches/; patches/ is the source of truth.

SHELL := /bin/bash
TOP := $(CURDIR)
BUILD := $(TOP)/build
DL := $(BUILD)/dl
TREE := $(BUILD)/linux
# The base sits at the same relative distance from its output directory as
# the work tree from its own (../../linux), so that ccache (CCACHE_BASEDIR)
# shares the objects the two have in common.
BASETREE := $(BUILD)/base/linux
OUT := $(BUILD)/out
RESULTS := $(BUILD)/results
TARBALL := $(DL)/linux_6.12.107.orig.tar.xz
PATCHES := $(TOP)/patches

SERIES_KERNEL := $(OUT)/series/arch/x86/boot/bzImage
DEBUG_KERNEL := $(OUT)/series-debug/arch/x86/boot/bzImage
BASE_OUT := $(BUILD)/base/out/base
BASE_KERNEL := $(BASE_OUT)/arch/x86/boot/bzImage
SELFTESTS := $(OUT)/selftests-series
INITRD := $(OUT)/initramfs-series.cpio.gz

# MMU modes: TDP MMU (default), legacy direct MMU, shadow paging.
MODES ?= default tdp_mmu0 shadow
DEBUG_MODES ?= default
LIST ?= baseline series
# End to end (scripts/e2e.sh): Debian's QEMU with KVM on the test kernel
# boots an L2 guest and live-migrates it; in these modes for "make e2e" and
# "make test", in the default mode for "make demo".
E2E_MODES ?= default tdp_mmu0 shadow
E2E_KERNEL ?= $(SERIES_KERNEL)

export BASE_TARBALL
export CCACHE_BASEDIR := $(BUILD)

# The steps of "make test" are timed (scripts/steps.sh) into $(STEPS), which
# .ci/run prints as its closing table; "make steps" prints it too.
TIMED := scripts/steps.sh run
STEPS_FILE := $(RESULTS)/steps.tsv
test: export STEPS := $(STEPS_FILE)

# One recipe at a time: the kernel builds and QEMU use every core
# themselves (JOBS, -smp 2), and "deps" must come first.
.NOTPARALLEL:

.PHONY: all help fetch tree base-tree export export-check clean-tree clean \
	kernel kernel-debug kernel-base selftests initramfs check bisect-check \
	test test-only e2e e2e-only steps-reset steps deps \
	demo bench

all: help

help:
	@echo "make demo          build the patched kernel, boot it under QEMU, run a KVM guest demo"
	@echo "make test          static checks, then the test lists in every MMU mode (and debug)"
	@echo "make bench         benchmarks on the base kernel and the series kernel, side by side"
	@echo "make e2e           Debian's QEMU on the patched kernel: boot a guest, live-migrate it"
	@echo "make tree          create build/linux: the base plus patches/ (git am)"
	@echo "make export        write build/linux's commits back to patches/"
	@echo "make export-check  fail if build/linux holds work patches/ does not"
	@echo "make deps          install the Debian packages that are missing (demo, test, bench, e2e run it first)"
	@echo "make steps         the timed steps of the last make test"

# The Debian packages the builds and the test bed need, only those missing
# (a no-op when all are there).
deps:
	@$(TIMED) install scripts/install-deps.sh

$(TARBALL):
	$(TIMED) "fetch base" scripts/fetch-base.sh $(DL)

fetch: $(TARBALL)

$(TREE)/.git: | $(TARBALL)
	$(TIMED) "tree (git am)" scripts/mktree.sh $(TARBALL) $(TREE) $(PATCHES)

tree: $(TREE)/.git

# The base, checked out from the work tree's "base" tag, for base-vs-series
# comparisons.
$(BASETREE)/Makefile: | $(TREE)/.git
	$(TIMED) "base tree" bash -c 'rm -rf $(BASETREE) && mkdir -p $(dir $(BASETREE)) && \
		git -C $(TREE) worktree prune && \
		git -C $(TREE) worktree add -q --detach $(BASETREE) base'

base-tree: $(BASETREE)/Makefile

export: | $(TREE)/.git
	scripts/export.sh $(TREE) $(PATCHES)

export-check:
	@scripts/export.sh --check $(TREE) $(PATCHES)

clean-tree:
	scripts/export.sh --check $(TREE) $(PATCHES)
	rm -rf $(TREE) $(BUILD)/base $(BUILD)/bisect

clean:
	rm -rf $(OUT) $(RESULTS)

kernel: | $(TREE)/.git
	$(TIMED) kernel scripts/build-kernel.sh $(TREE) $(OUT)/series configs/test.config

kernel-debug: | $(TREE)/.git
	$(TIMED) "kernel-debug$(if $(STEP_TAG), $(STEP_TAG))" scripts/build-kernel.sh $(TREE) $(OUT)/series-debug configs/test.config configs/debug.config

kernel-base: | $(BASETREE)/Makefile
	scripts/build-kernel.sh $(BASETREE) $(BASE_OUT) configs/test.config

selftests: | $(TREE)/.git
	$(TIMED) selftests scripts/build-selftests.sh $(TREE) $(SELFTESTS)

initramfs: selftests
	$(TIMED) "bench programs" scripts/build-bench.sh $(TREE) $(SELFTESTS)
	$(TIMED) initramfs scripts/mkinitramfs.sh $(INITRD) $(SELFTESTS)/kvm tests $(SELFTESTS)/bench

# Static checks: the series applies on the base, checkpatch --strict, and no
# new W=1 or sparse warnings in arch/x86/kvm (which builds virt/kvm too).
check: | $(TREE)/.git $(BASETREE)/Makefile
	$(TIMED) "static checks" scripts/static-checks.sh $(TREE) $(BASETREE) $(PATCHES) $(OUT)/static

# Every patch of the series builds on its own (BISECT_RANGE: the commits to
# check, default base..HEAD; see scripts/bisect-check.sh).
bisect-check: | $(TREE)/.git
	$(TIMED) "bisect check$(if $(STEP_TAG), $(STEP_TAG))" scripts/bisect-check.sh $(TREE) $(BUILD)/bisect $(BISECT_RANGE)

# The test command: everything, on a fresh machine too.  The end-to-end
# cases are not part of it: L1 crashes now and then under TCG, which no
# retry can hide (docs/testbed.md); .ci/run runs them afterwards, failing
# only on lost pages.
#
# The debug kernel and the bisect check are built beside the runs on the test
# kernel, at the lowest CPU priority (scripts/run-all.sh, BESIDE): those runs
# leave about half of the two cores idle.  The runs on the debug kernel wait
# for it; make test waits for both and fails if either does.
test: steps-reset deps check kernel initramfs
	$(MAKE) --no-print-directory test-only BESIDE=1

BESIDE_FIRST := $(if $(BESIDE),$(MAKE) --no-print-directory kernel-debug STEP_TAG='(beside)')
BESIDE_THEN := $(if $(BESIDE),$(MAKE) --no-print-directory bisect-check STEP_TAG='(beside)')
export BESIDE_FIRST BESIDE_THEN

# A new table for each make test, unless .ci/run keeps adding to it.
steps-reset:
	@[ -n "$$STEPS_KEEP" ] || rm -f $(STEPS_FILE)

steps:
	@scripts/steps.sh table $(STEPS_FILE)

# Run the lists on already built kernels.
test-only:
	scripts/run-all.sh $(RESULTS) "$(LIST)" "$(MODES)" "$(DEBUG_MODES)" \
		$(SERIES_KERNEL) $(DEBUG_KERNEL) $(INITRD)

demo: deps kernel initramfs
	scripts/run-qemu.sh $(SERIES_KERNEL) $(INITRD) default demo $(RESULTS)
	@echo
	@echo "What the guests did (64 MiB populated by the host, touched page by page;"
	@echo "pf_taken: the page faults they took, pf_prefetched: SPTEs KVM prefetched):"
	@scripts/demo-summary.py $(RESULTS)/results-demo-default.ktap
	@echo
	@echo "A real guest: Debian's QEMU, with KVM on the patched kernel, boots Linux"
	@echo "and live-migrates it (dirty ring, then dirty bitmap) while it writes memory:"
	$(MAKE) --no-print-directory e2e-only E2E_MODES=default

# End to end: L1 runs Debian's QEMU with KVM; see scripts/e2e.sh.
e2e: deps kernel
	$(MAKE) --no-print-directory e2e-only

e2e-only:
	$(TIMED) "e2e $(E2E_MODES)" scripts/e2e.sh $(E2E_KERNEL) "$(E2E_MODES)" $(RESULTS)/e2e

# The same initramfs (the series' selftests and bench programs) on both
# kernels: only the kernel differs.
bench: deps kernel kernel-base initramfs
	rm -rf $(RESULTS)/bench
	scripts/bench.sh $(RESULTS)/bench $(BASE_KERNEL) $(SERIES_KERNEL) $(INITRD)
