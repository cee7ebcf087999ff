// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_mmu_bench: one guest workload, measured by KVM's binary stats.
 *
 * A VM with one vCPU and one memslot of test memory; the guest touches every
 * 4 KiB page of it once (sequentially, or in a scattered order), optionally
 * after the host populated the memory, then optionally again with dirty
 * logging enabled.  The program prints one "bench:" line of key=value pairs:
 * the deltas of the vCPU and VM stats over the touch phase, its wall time,
 * and for the dirty-logging phase the pages reported dirty (which must equal
 * the pages written, or the program fails).
 *
 * -S touches only every n-th page, and -D then write-protects the memory from
 * the host, which makes KVM zap its mappings, and counts the pages whose
 * struct page is marked dirty (PG_dirty, /proc/kpageflags) before and after:
 * KVM marks a page dirty when it zaps a writable mapping with the Dirty bit.
 *
 * -f touches only the first part of the memory, and -P has the VMM map all of
 * it with KVM_PRE_FAULT_MEMORY (6.10+) before the guest runs, timed and
 * counted apart: the comparison a user makes between prefetch on faults and
 * pre-faulting everything up front.
 *
 * It runs unchanged on the base kernel and on the series kernel; whatever the
 * running kernel does not support (a stat, a capability) is reported as "-"
 * or "unsupported" rather than guessed.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/bitmap.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#ifndef KVM_CAP_PTE_PREFETCH
#define KVM_CAP_PTE_PREFETCH 239
#endif

#define TEST_SLOT	1
#define TEST_GPA	(1ULL << 32)
#define TEST_GVA	(1ULL << 32)

/* Guest parameters, written by the host before each run. */
static uint64_t g_npages;	/* the pages touched */
static uint64_t g_stride;	/* 1: sequential; else odd, co-prime to npages */
static uint64_t g_write;
static uint64_t g_spread = 1;	/* touch every g_spread-th page */
static uint64_t g_sum;

static void guest_code(void)
{
	for (;;) {
		uint64_t i, idx = 0, sum = 0;

		for (i = 0; i < g_npages; i++) {
			volatile uint64_t *p = (uint64_t *)(TEST_GVA + idx * g_spread * PAGE_SIZE);

			if (g_write)
				*p = idx + 1;
			else
				sum += *p;
			idx += g_stride;
			if (idx >= g_npages)
				idx -= g_npages;
		}
		g_sum = sum;
		GUEST_SYNC(0);
	}
}

struct stats {
	int fd;
	struct kvm_stats_header hdr;
	struct kvm_stats_desc *descs;
};

static void stats_open(struct stats *s, int fd)
{
	s->fd = fd;
	TEST_ASSERT(pread(fd, &s->hdr, sizeof(s->hdr), 0) == sizeof(s->hdr),
		    "read stats header");
	s->descs = read_stats_descriptors(fd, &s->hdr);
}

/* Returns false if the running kernel has no stat of that name. */
static bool stats_get(struct stats *s, const char *name, uint64_t *val)
{
	struct kvm_stats_desc *d;
	int i;

	for (i = 0; i < s->hdr.num_desc; i++) {
		d = get_stats_descriptor(s->descs, i, &s->hdr);
		if (strcmp(d->name, name))
			continue;
		read_stat_data(s->fd, &s->hdr, d, val, 1);
		return true;
	}
	return false;
}

static const char * const vcpu_stats[] = {
	"pf_taken", "pf_fixed", "pf_spurious", "pf_fast", "pf_emulate",
	"pf_prefetched", "exits",
};
static const char * const vm_stats[] = {
	"pages_4k", "mmu_pte_write",
};
#define NR_VCPU_STATS	ARRAY_SIZE(vcpu_stats)
#define NR_VM_STATS	ARRAY_SIZE(vm_stats)

struct snapshot {
	bool have[NR_VCPU_STATS + NR_VM_STATS];
	uint64_t val[NR_VCPU_STATS + NR_VM_STATS];
	struct timespec ts;
};

static void snap(struct stats *vcpu, struct stats *vm, struct snapshot *s)
{
	int i;

	for (i = 0; i < NR_VCPU_STATS; i++)
		s->have[i] = stats_get(vcpu, vcpu_stats[i], &s->val[i]);
	for (i = 0; i < NR_VM_STATS; i++)
		s->have[NR_VCPU_STATS + i] =
			stats_get(vm, vm_stats[i], &s->val[NR_VCPU_STATS + i]);
	clock_gettime(CLOCK_MONOTONIC, &s->ts);
}

static double ms_between(struct snapshot *a, struct snapshot *b)
{
	return (b->ts.tv_sec - a->ts.tv_sec) * 1000.0 +
	       (b->ts.tv_nsec - a->ts.tv_nsec) / 1e6;
}

static void print_delta(const char *phase, struct snapshot *a, struct snapshot *b)
{
	int i;

	printf(" %s_ms=%.1f", phase, ms_between(a, b));
	for (i = 0; i < NR_VCPU_STATS + NR_VM_STATS; i++) {
		const char *name = i < NR_VCPU_STATS ? vcpu_stats[i] :
				   vm_stats[i - NR_VCPU_STATS];

		if (a->have[i] && b->have[i])
			printf(" %s_%s=%lu", phase, name, b->val[i] - a->val[i]);
		else
			printf(" %s_%s=-", phase, name);
	}
}

static void run_guest(struct kvm_vcpu *vcpu)
{
	struct ucall uc;

	vcpu_run(vcpu);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("unexpected exit %s", exit_reason_str(vcpu->run->exit_reason));
	}
}

static uint64_t pick_stride(uint64_t npages)
{
	/* An odd stride near npages * 0.618 that is co-prime to npages. */
	uint64_t s = (npages * 618 / 1000) | 1, a, b, t;

	for (;; s += 2) {
		for (a = s, b = npages; b; t = a % b, a = b, b = t)
			;
		if (a == 1)
			return s;
	}
}

/*
 * Map all of [gpa, gpa + size) with KVM_PRE_FAULT_MEMORY; returns false if
 * the kernel or the MMU (shadow paging) does not support it.
 */
static bool pre_fault_all(struct kvm_vcpu *vcpu, uint64_t gpa, uint64_t size)
{
	struct kvm_pre_fault_memory range = { .gpa = gpa, .size = size };
	int r;

	if (!kvm_has_cap(KVM_CAP_PRE_FAULT_MEMORY))
		return false;
	while (range.size) {
		r = __vcpu_ioctl(vcpu, KVM_PRE_FAULT_MEMORY, &range);
		TEST_ASSERT(r >= 0 || errno == EINTR || errno == EAGAIN,
			    "KVM_PRE_FAULT_MEMORY failed, errno %d, %llu bytes left",
			    errno, range.size);
	}
	return true;
}

#define PM_PRESENT	BIT_ULL(63)
#define PM_PFN_MASK	(BIT_ULL(55) - 1)
#define KPF_DIRTY	4

/*
 * The number of pages of [hva, hva + npages pages) whose struct page has
 * PG_dirty, from /proc/self/pagemap and /proc/kpageflags (root only).
 */
static uint64_t count_dirty_pages(void *hva, uint64_t npages)
{
	int pm = open("/proc/self/pagemap", O_RDONLY);
	int kf = open("/proc/kpageflags", O_RDONLY);
	uint64_t i, ent, flags, n = 0;

	TEST_ASSERT(pm >= 0 && kf >= 0, "open /proc/self/pagemap, /proc/kpageflags");
	for (i = 0; i < npages; i++) {
		TEST_ASSERT(pread(pm, &ent, 8, ((uintptr_t)hva / PAGE_SIZE + i) * 8) == 8,
			    "read pagemap");
		if (!(ent & PM_PRESENT))
			continue;
		TEST_ASSERT(ent & PM_PFN_MASK, "pagemap hides the PFNs (not root?)");
		TEST_ASSERT(pread(kf, &flags, 8, (ent & PM_PFN_MASK) * 8) == 8,
			    "read kpageflags");
		n += !!(flags & BIT_ULL(KPF_DIRTY));
	}
	close(pm);
	close(kf);
	return n;
}

static void usage(const char *name)
{
	printf("usage: %s [-m MiB] [-f percent] [-S spread] [-P] [-p] [-a] [-r] [-w] [-n prefetch] [-d] [-D] [-t tag]\n"
	       " -m: test memory size in MiB (default 64)\n"
	       " -f: the guest touches only this percentage of the pages, the first ones\n"
	       " -S: the guest touches only every n-th page\n"
	       " -P: map all of the memory with KVM_PRE_FAULT_MEMORY before the guest runs\n"
	       " -p: populate the memory from the host before the guest touches it\n"
	       " -a: set the Accessed bit in the guest's PTEs of the memory, as for\n"
	       "     memory the guest used before (shadow paging prefetches only\n"
	       "     accessed guest PTEs)\n"
	       " -r: touch pages in a scattered order instead of sequentially\n"
	       " -w: the guest writes (default: reads)\n"
	       " -n: set KVM_CAP_PTE_PREFETCH to this count (0 = KVM's default)\n"
	       " -d: then enable dirty logging and write every page once more\n"
	       " -D: then write-protect the memory from the host, which zaps KVM's\n"
	       "     mappings, and count the pages marked dirty (PG_dirty) before and after\n"
	       " -t: tag printed with the results\n", name);
	exit(0);
}

int main(int argc, char *argv[])
{
	uint64_t mib = 64, percent = 100, npages, ntouch, i, *hva, dirty;
	bool populate = false, scattered = false, dirtylog = false, write = false;
	bool accessed = false, prefault = false, zapdirty = false;
	uint64_t spread = 1, want = 0;
	long prefetch = -1;
	const char *tag = "run";
	struct snapshot s0, s1, s2, s3, sp;
	struct stats vcpu_st, vm_st;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	unsigned long *bitmap;
	int opt, r;

	while ((opt = getopt(argc, argv, "m:f:S:Pparwn:dDt:h")) != -1) {
		switch (opt) {
		case 'm': mib = strtoull(optarg, NULL, 0); break;
		case 'f': percent = strtoull(optarg, NULL, 0); break;
		case 'S': spread = strtoull(optarg, NULL, 0); break;
		case 'D': zapdirty = true; break;
		case 'P': prefault = true; break;
		case 'p': populate = true; break;
		case 'a': accessed = true; break;
		case 'r': scattered = true; break;
		case 'w': write = true; break;
		case 'n': prefetch = strtol(optarg, NULL, 0); break;
		case 'd': dirtylog = true; break;
		case 't': tag = optarg; break;
		default: usage(argv[0]);
		}
	}
	npages = mib << 20 >> PAGE_SHIFT;
	TEST_ASSERT(percent >= 1 && percent <= 100, "-f takes 1 to 100");
	ntouch = npages * percent / 100;
	TEST_ASSERT(!(ntouch < npages && (scattered || dirtylog)),
		    "-f goes with neither -r nor -d");
	TEST_ASSERT(spread >= 1 && (spread == 1 || (ntouch == npages && !scattered &&
						    !dirtylog && !write)),
		    "-S goes with none of -f, -r, -d, -w");
	ntouch /= spread;

	vm = vm_create_with_one_vcpu(&vcpu, guest_code);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA, TEST_SLOT,
				    npages, 0);
	virt_map(vm, TEST_GVA, TEST_GPA, npages);
	hva = addr_gpa2hva(vm, TEST_GPA);

	if (accessed)
		for (i = 0; i < npages; i++)
			*vm_get_page_table_entry(vm, TEST_GVA + i * PAGE_SIZE) |= PTE_ACCESSED_MASK;

	printf("bench: tag=%s mib=%lu pages=%lu touched=%lu populate=%d accessed=%d order=%s access=%s",
	       tag, mib, npages, ntouch, populate, accessed,
	       scattered ? "scattered" : spread > 1 ? "spread" : "sequential",
	       write ? "write" : "read");

	if (prefetch >= 0) {
		if (!kvm_has_cap(KVM_CAP_PTE_PREFETCH)) {
			printf(" prefetch=unsupported\n");
			kvm_vm_free(vm);
			return KSFT_SKIP;
		}
		r = __vm_enable_cap(vm, KVM_CAP_PTE_PREFETCH, prefetch);
		TEST_ASSERT(!r, "KVM_ENABLE_CAP(KVM_CAP_PTE_PREFETCH, %ld) failed", prefetch);
		printf(" prefetch=%ld", prefetch);
	} else {
		printf(" prefetch=default");
	}

	if (populate)
		for (i = 0; i < npages; i++)
			hva[i * PAGE_SIZE / 8] = i + 1;

	g_npages = ntouch;
	g_stride = scattered ? pick_stride(npages) : 1;
	g_write = write;
	g_spread = spread;
	sync_global_to_guest(vm, g_spread);
	sync_global_to_guest(vm, g_npages);
	sync_global_to_guest(vm, g_stride);
	sync_global_to_guest(vm, g_write);

	stats_open(&vcpu_st, vcpu_get_stats_fd(vcpu));
	stats_open(&vm_st, vm_get_stats_fd(vm));

	if (prefault) {
		snap(&vcpu_st, &vm_st, &sp);
		if (!pre_fault_all(vcpu, TEST_GPA, npages * PAGE_SIZE)) {
			printf(" prefault=unsupported\n");
			kvm_vm_free(vm);
			return KSFT_SKIP;
		}
		snap(&vcpu_st, &vm_st, &s0);
		printf(" prefault=all");
		print_delta("prefault", &sp, &s0);
	} else {
		snap(&vcpu_st, &vm_st, &s0);
	}
	run_guest(vcpu);
	snap(&vcpu_st, &vm_st, &s1);
	print_delta("touch", &s0, &s1);
	/* What the VMM and the guest spent until every touched page was read. */
	printf(" total_ms=%.1f", ms_between(prefault ? &sp : &s0, &s1));

	/* Every value read must be what the host (or nobody) wrote. */
	if (!write) {
		for (i = 0; populate && i < ntouch; i++)
			want += i * spread + 1;
		sync_global_from_guest(vm, g_sum);
		TEST_ASSERT(g_sum == want, "guest read sum %lu, expected %lu", g_sum, want);
	} else {
		for (i = 0; i < ntouch; i++)
			TEST_ASSERT(hva[i * PAGE_SIZE / 8] == i + 1,
				    "page %lu holds %lu after the guest wrote %lu",
				    i, hva[i * PAGE_SIZE / 8], i + 1);
	}

	if (zapdirty) {
		dirty = count_dirty_pages(hva, npages);
		TEST_ASSERT(!mprotect(hva, npages * PAGE_SIZE, PROT_READ), "mprotect");
		printf(" dirty_pg_before_zap=%lu dirty_pg_after_zap=%lu", dirty,
		       count_dirty_pages(hva, npages));
		TEST_ASSERT(!mprotect(hva, npages * PAGE_SIZE, PROT_READ | PROT_WRITE),
			    "mprotect");
	}

	if (dirtylog) {
		bitmap = bitmap_zalloc(npages);
		vm_mem_region_set_flags(vm, TEST_SLOT, KVM_MEM_LOG_DIRTY_PAGES);
		kvm_vm_get_dirty_log(vm, TEST_SLOT, bitmap);	/* start clean */
		g_write = 1;
		sync_global_to_guest(vm, g_write);
		snap(&vcpu_st, &vm_st, &s2);
		run_guest(vcpu);
		snap(&vcpu_st, &vm_st, &s3);
		kvm_vm_get_dirty_log(vm, TEST_SLOT, bitmap);
		for (dirty = 0, i = 0; i < npages; i++)
			dirty += test_bit(i, bitmap);
		print_delta("dirty", &s2, &s3);
		printf(" dirty_pages=%lu", dirty);
		TEST_ASSERT(dirty == npages, "dirty log reports %lu of %lu written pages",
			    dirty, npages);
		free(bitmap);
	}
	printf("\n");
	kvm_vm_free(vm);
	return 0;
}
