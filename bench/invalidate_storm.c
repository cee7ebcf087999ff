// SPDX-License-Identifier: GPL-2.0-only
/*
 * invalidate_storm: page faults racing with invalidations of guest memory,
 * measured by KVM's binary stats, on the base kernel and the series alike.
 *
 * The workload of the series' mmu_invalidate_retry_test: vCPUs fault on
 * region A (and its memslot alias A2), all of it again in each round, while
 * host threads invalidate other memory (-m disjoint: MADV_DONTNEED on B1,
 * mprotect() toggles on B2, mmap(MAP_FIXED) over the memfd mapping of B3,
 * with B1 and B2 at gfns on both sides of A) or A itself (-m overlap:
 * pages replaced, others mprotect()ed, for -s seconds), or nothing (-m none).
 * Every value the guest reads is checked against the host's published
 * generation of the page.
 *
 * Prints one "bench:" line, each metric prefixed with "storm_": the vCPUs'
 * passes over A and A2, their time (fault_ms: the rounds' time, the host's
 * rewrite of A between rounds excluded; or the overlapping storm's -s
 * seconds), pf_taken, pf_fixed, retries = pf_taken - pf_fixed - pf_spurious -
 * pf_emulate (every fault that returned to the guest unresolved, on any
 * kernel), and where the running kernel has them the series'
 * pf_invalidate_retry, pf_invalidate_retry_nohist and
 * mmu_invalidate_overflows ("-" otherwise).
 *
 *   invalidate_storm [-v VCPUS] [-m none|disjoint|overlap] [-r ROUNDS] [-s SECONDS] [-t TAG]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#define MEM_SIZE	(4ULL << 20)
#define NPAGES		(MEM_SIZE / PAGE_SIZE)

/*
 * Guest physical layout: A between B1 and B2, so that a union of the
 * invalidations of B1 and B2 covers A; A2 aliases A's hva.
 */
#define B1_SLOT		1
#define B1_GPA		BIT_ULL(32)
#define A_SLOT		2
#define A_GPA		(B1_GPA + (16ULL << 20))
#define A2_SLOT		3
#define A2_GPA		(B1_GPA + (32ULL << 20))
#define B2_SLOT		4
#define B2_GPA		(B1_GPA + (48ULL << 20))
#define B3_SLOT		5
#define B3_GPA		(B1_GPA + (64ULL << 20))

#define MAX_VCPUS	4

#define PUB_BUSY	BIT_ULL(63)

/* The generation of each page of A, published by the host after writing it. */
static uint64_t published[NPAGES];

static uint64_t page_value(uint64_t page, uint64_t gen)
{
	return 0x5a5a000000000000ull | (gen << 24) | page;
}

static void guest_check(uint64_t gva, uint64_t first)
{
	uint64_t i, page, pub1, pub2, val, addr;

	for (i = 0; i < NPAGES; i++) {
		page = (first + i) % NPAGES;
		addr = gva + page * PAGE_SIZE;
		pub1 = READ_ONCE(published[page]);
		val = READ_ONCE(*(uint64_t *)addr);
		pub2 = READ_ONCE(published[page]);
		if (pub1 != pub2 || (pub1 & PUB_BUSY))
			continue;
		__GUEST_ASSERT(val == page_value(page, pub1),
			       "gva 0x%lx: read 0x%lx, the host wrote 0x%lx",
			       addr, val, page_value(page, pub1));
	}
}

static void guest_code(uint64_t first)
{
	for (;;) {
		guest_check(A_GPA, first);
		guest_check(A2_GPA, first);
		GUEST_SYNC(1);
	}
}

static struct kvm_vm *vm;
static struct kvm_vcpu *vcpus[MAX_VCPUS];
static int nr_vcpus = 2;
static uint64_t *a_hva, *pub_hva;
static void *b1_hva, *b2_hva, *b3_hva;
static int b3_fd;

static pthread_barrier_t round_start, round_end;
static bool rounds_mode;
static bool vcpus_stop, storms_stop;
static uint64_t passes[MAX_VCPUS];
static uint64_t gen;

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	struct ucall uc;

	for (;;) {
		vcpu_run(vcpu);
		TEST_ASSERT_KVM_EXIT_REASON(vcpu, KVM_EXIT_IO);
		switch (get_ucall(vcpu, &uc)) {
		case UCALL_SYNC:
			break;
		case UCALL_ABORT:
			REPORT_GUEST_ASSERT(uc);
		default:
			TEST_FAIL("Unexpected ucall %lu", uc.cmd);
		}
		WRITE_ONCE(passes[vcpu->id], passes[vcpu->id] + 1);
		if (READ_ONCE(rounds_mode)) {
			pthread_barrier_wait(&round_end);
			pthread_barrier_wait(&round_start);
		}
		if (READ_ONCE(vcpus_stop))
			return NULL;
	}
}

static void write_page(uint64_t page, uint64_t g)
{
	WRITE_ONCE(a_hva[page * PAGE_SIZE / 8], page_value(page, g));
	__atomic_store_n(&pub_hva[page], g, __ATOMIC_RELEASE);
}

/*
 * Replace pages [@first, @first + @nr) of A: discard them and write the next
 * generation.  A range, so that the primary MMU takes a while to clear the
 * PTEs of the range after KVM zapped its SPTEs: faults in between find the
 * old pages, and must be retried.
 */
static void replace_pages(uint64_t first, uint64_t nr)
{
	uint64_t i;

	for (i = first; i < first + nr; i++)
		__atomic_store_n(&pub_hva[i], pub_hva[i] | PUB_BUSY, __ATOMIC_RELEASE);
	TEST_ASSERT(!madvise((void *)a_hva + first * PAGE_SIZE, nr * PAGE_SIZE,
			     MADV_DONTNEED), "madvise(MADV_DONTNEED) failed");
	for (i = first; i < first + nr; i++)
		write_page(i, (pub_hva[i] & ~PUB_BUSY) + 1);
}

static void touch(void *hva, size_t size)
{
	size_t i;

	for (i = 0; i < size; i += PAGE_SIZE)
		WRITE_ONCE(*(uint64_t *)(hva + i), i);
}

/*
 * Disjoint storms, a page at a time so that invalidations are frequent: B1
 * and B2 (anonymous), B3 (memfd).
 */
static void *storm_b1_dontneed(void *arg)
{
	uint64_t off = 0;

	while (!READ_ONCE(storms_stop)) {
		TEST_ASSERT(!madvise(b1_hva + off, PAGE_SIZE, MADV_DONTNEED),
			    "madvise failed");
		touch(b1_hva + off, PAGE_SIZE);
		off = (off + PAGE_SIZE) % MEM_SIZE;
	}
	return NULL;
}

static void *storm_b2_mprotect(void *arg)
{
	uint64_t off = 0;

	while (!READ_ONCE(storms_stop)) {
		TEST_ASSERT(!mprotect(b2_hva + off, PAGE_SIZE, PROT_READ),
			    "mprotect failed");
		TEST_ASSERT(!mprotect(b2_hva + off, PAGE_SIZE, PROT_READ | PROT_WRITE),
			    "mprotect failed");
		off = (off + PAGE_SIZE) % MEM_SIZE;
	}
	return NULL;
}

static void *storm_b3_remap(void *arg)
{
	uint64_t off = 0;
	void *p;

	while (!READ_ONCE(storms_stop)) {
		p = mmap(b3_hva + off, PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED, b3_fd, off);
		TEST_ASSERT(p == b3_hva + off, "mmap(MAP_FIXED) failed");
		touch(b3_hva + off, PAGE_SIZE);
		off = (off + PAGE_SIZE) % MEM_SIZE;
	}
	return NULL;
}

/* Overlapping storms: the first half of A replaced, the second protected. */
static void *storm_a_replace(void *arg)
{
	uint64_t first = 0;

	while (!READ_ONCE(storms_stop)) {
		replace_pages(first, 128);
		first = (first + 128) % (NPAGES / 2);
	}
	return NULL;
}

static void *storm_a_mprotect(void *arg)
{
	void *half = (void *)a_hva + MEM_SIZE / 2;
	uint64_t off = 0;

	while (!READ_ONCE(storms_stop)) {
		TEST_ASSERT(!mprotect(half + off, 16 * PAGE_SIZE, PROT_READ),
			    "mprotect failed");
		TEST_ASSERT(!mprotect(half + off, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE),
			    "mprotect failed");
		off = (off + 16 * PAGE_SIZE) % (MEM_SIZE / 2);
	}
	return NULL;
}

static const char * const vcpu_stat_names[] = {
	"pf_taken", "pf_fixed", "pf_spurious", "pf_emulate",
	"pf_invalidate_retry", "pf_invalidate_retry_nohist",
};
#define NR_STATS	(ARRAY_SIZE(vcpu_stat_names) + 1)

struct counts {
	bool have[NR_STATS];
	uint64_t val[NR_STATS];
};

/* Returns false if the running kernel has no stat of that name. */
static bool stat_get(int fd, struct kvm_stats_header *hdr,
		     struct kvm_stats_desc *descs, const char *name, uint64_t *val)
{
	struct kvm_stats_desc *d;
	int i;

	for (i = 0; i < hdr->num_desc; i++) {
		d = get_stats_descriptor(descs, i, hdr);
		if (!strcmp(d->name, name)) {
			read_stat_data(fd, hdr, d, val, 1);
			return true;
		}
	}
	return false;
}

static int vcpu_fds[MAX_VCPUS], vm_fd;
static struct kvm_stats_header vcpu_hdr[MAX_VCPUS], vm_hdr;
static struct kvm_stats_desc *vcpu_descs[MAX_VCPUS], *vm_descs;

static void stats_open(int fd, struct kvm_stats_header *hdr,
		       struct kvm_stats_desc **descs)
{
	TEST_ASSERT(pread(fd, hdr, sizeof(*hdr), 0) == sizeof(*hdr),
		    "read stats header");
	*descs = read_stats_descriptors(fd, hdr);
}

static void read_counts(struct counts *c)
{
	uint64_t v;
	int i, s;

	memset(c, 0, sizeof(*c));
	for (s = 0; s < NR_STATS - 1; s++) {
		c->have[s] = true;
		for (i = 0; i < nr_vcpus; i++) {
			if (!stat_get(vcpu_fds[i], &vcpu_hdr[i], vcpu_descs[i],
				      vcpu_stat_names[s], &v))
				c->have[s] = false;
			else
				c->val[s] += v;
		}
	}
	c->have[s] = stat_get(vm_fd, &vm_hdr, vm_descs,
			      "mmu_invalidate_overflows", &c->val[s]);
}

static double fault_ms;

/* Discard all of A and write the next generation, with the vCPUs parked. */
static void replace_all(void)
{
	uint64_t i;

	TEST_ASSERT(!madvise(a_hva, MEM_SIZE, MADV_DONTNEED), "madvise failed");
	gen++;
	for (i = 0; i < NPAGES; i++)
		write_page(i, gen);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000.0 + ts.tv_nsec / 1e6;
}

static void run_phase(const char *tag, void *(*storms[])(void *), int nr_storms,
		      int rounds, int seconds)
{
	pthread_t vcpu_threads[MAX_VCPUS], storm_threads[4];
	static const char * const names[] = {
		"pf_taken", "pf_fixed", "pf_spurious", "pf_emulate",
		"pf_invalidate_retry", "pf_invalidate_retry_nohist",
		"mmu_invalidate_overflows",
	};
	struct counts before, after;
	uint64_t total = 0, d[NR_STATS];
	double t0;
	int i;

	read_counts(&before);
	memset(passes, 0, sizeof(passes));
	WRITE_ONCE(storms_stop, false);
	WRITE_ONCE(vcpus_stop, false);
	WRITE_ONCE(rounds_mode, rounds > 0);
	for (i = 0; i < nr_storms; i++)
		pthread_create(&storm_threads[i], NULL, storms[i], NULL);
	t0 = now_ms();
	for (i = 0; i < nr_vcpus; i++)
		pthread_create(&vcpu_threads[i], NULL, vcpu_thread, vcpus[i]);

	if (rounds) {
		/* Each round: every vCPU faults all of A in again. */
		for (i = 0; i < rounds; i++) {
			pthread_barrier_wait(&round_end);
			fault_ms += now_ms() - t0;
			replace_all();
			if (i == rounds - 1)
				WRITE_ONCE(vcpus_stop, true);
			t0 = now_ms();
			pthread_barrier_wait(&round_start);
		}
	} else {
		sleep(seconds);
		WRITE_ONCE(vcpus_stop, true);
	}

	for (i = 0; i < nr_vcpus; i++)
		pthread_join(vcpu_threads[i], NULL);
	if (!rounds)
		fault_ms = now_ms() - t0;
	WRITE_ONCE(storms_stop, true);
	for (i = 0; i < nr_storms; i++)
		pthread_join(storm_threads[i], NULL);

	read_counts(&after);
	for (i = 0; i < NR_STATS; i++)
		d[i] = after.val[i] - before.val[i];
	for (i = 0; i < nr_vcpus; i++)
		total += passes[i];

	printf("bench: tag=%s vcpus=%d rounds=%d storm_passes=%lu storm_fault_ms=%.1f storm_retries=%lu",
	       tag, nr_vcpus, rounds, total, fault_ms, d[0] - d[1] - d[2] - d[3]);
	for (i = 0; i < NR_STATS; i++) {
		if (before.have[i] && after.have[i])
			printf(" storm_%s=%lu", names[i], d[i]);
		else
			printf(" storm_%s=-", names[i]);
	}
	printf("\n");
}

static void *add_slot(uint32_t slot, uint64_t gpa, enum vm_mem_backing_src_type src)
{
	vm_userspace_mem_region_add(vm, src, gpa, slot, NPAGES, 0);
	return addr_gpa2hva(vm, gpa);
}

int main(int argc, char *argv[])
{
	void *(*disjoint[])(void *) = {
		storm_b1_dontneed, storm_b2_mprotect, storm_b3_remap,
	};
	void *(*overlap[])(void *) = { storm_a_replace, storm_a_mprotect };
	int rounds = 20, seconds = 3, opt, i;
	const char *mode = "disjoint", *tag = NULL;

	while ((opt = getopt(argc, argv, "v:m:r:s:t:")) != -1) {
		switch (opt) {
		case 'v':
			nr_vcpus = atoi_positive("Number of vCPUs", optarg);
			TEST_ASSERT(nr_vcpus <= MAX_VCPUS, "At most %d vCPUs", MAX_VCPUS);
			break;
		case 'm':
			mode = optarg;
			break;
		case 'r':
			rounds = atoi_positive("Number of rounds", optarg);
			break;
		case 's':
			seconds = atoi_positive("Seconds", optarg);
			break;
		case 't':
			tag = optarg;
			break;
		default:
			printf("usage: %s [-v VCPUS] [-m none|disjoint|overlap] [-r ROUNDS] [-s SECONDS] [-t TAG]\n",
			       argv[0]);
			exit(KSFT_SKIP);
		}
	}
	if (!tag)
		tag = mode;

	vm = vm_create_with_vcpus(nr_vcpus, guest_code, vcpus);
	b1_hva = add_slot(B1_SLOT, B1_GPA, VM_MEM_SRC_ANONYMOUS);
	a_hva = add_slot(A_SLOT, A_GPA, VM_MEM_SRC_ANONYMOUS);
	b2_hva = add_slot(B2_SLOT, B2_GPA, VM_MEM_SRC_ANONYMOUS);
	b3_hva = add_slot(B3_SLOT, B3_GPA, VM_MEM_SRC_SHMEM);
	b3_fd = memslot2region(vm, B3_SLOT)->fd;
	/* A2: the same hva as A, at other gfns. */
	vm_set_user_memory_region(vm, A2_SLOT, 0, A2_GPA, MEM_SIZE, a_hva);

	virt_map(vm, A_GPA, A_GPA, NPAGES);
	virt_map(vm, A2_GPA, A2_GPA, NPAGES);
	pub_hva = addr_gva2hva(vm, (vm_vaddr_t)published);

	pthread_barrier_init(&round_start, NULL, nr_vcpus + 1);
	pthread_barrier_init(&round_end, NULL, nr_vcpus + 1);
	for (i = 0; i < nr_vcpus; i++) {
		vcpu_args_set(vcpus[i], 1, i * NPAGES / nr_vcpus);
		vcpu_fds[i] = vcpu_get_stats_fd(vcpus[i]);
		stats_open(vcpu_fds[i], &vcpu_hdr[i], &vcpu_descs[i]);
	}
	vm_fd = vm_get_stats_fd(vm);
	stats_open(vm_fd, &vm_hdr, &vm_descs);

	touch(b1_hva, MEM_SIZE);
	touch(b2_hva, MEM_SIZE);
	touch(b3_hva, MEM_SIZE);
	replace_all();

	if (!strcmp(mode, "none"))
		run_phase(tag, NULL, 0, rounds, 0);
	else if (!strcmp(mode, "disjoint"))
		run_phase(tag, disjoint, ARRAY_SIZE(disjoint), rounds, 0);
	else if (!strcmp(mode, "overlap"))
		run_phase(tag, overlap, ARRAY_SIZE(overlap), 0, seconds);
	else
		TEST_FAIL("Unknown mode %s", mode);

	kvm_vm_free(vm);
	return 0;
}
