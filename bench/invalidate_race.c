// SPDX-License-Identifier: GPL-2.0-only
/*
 * The race part of pte_prefetch_test, alone, for the base kernel as well:
 * two vCPUs read 64 MiB of populated memory while the host replaced it
 * (MADV_DONTNEED, then new values) before each round and write-protects and
 * unprotects it during the round (mmu_notifier invalidations during faults).
 * Every value read is checked.  With -c, KVM_CAP_PTE_PREFETCH is set before
 * each round and changed during it, as pte_prefetch_test does; without it
 * KVM's default count is used, and the program runs on kernels without the
 * capability.  Used to measure how often the guest triple-faults under QEMU
 * TCG (README, "Known TCG flakes"): such a run fails with
 * "Unexpected exit: SHUTDOWN".
 *
 *   invalidate_race [-c] [-r ROUNDS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm_util.h"
#include "processor.h"
#include "ucall_common.h"

#ifndef KVM_CAP_PTE_PREFETCH
#define KVM_CAP_PTE_PREFETCH 239
#endif

#define TEST_SLOT	1
#define TEST_GPA	BIT_ULL(32)
#define TEST_GVA	BIT_ULL(32)
#define TEST_MEM_SIZE	(64ULL << 20)
#define TEST_NPAGES	(TEST_MEM_SIZE / PAGE_SIZE)
#define NR_VCPUS	2

static uint64_t g_gen;
static pthread_barrier_t round_start, round_end;
static bool done;

static uint64_t page_value(uint64_t i)
{
	return 0x5a5a000000000000ull | i;
}

static void guest_code(uint64_t gva, uint64_t npages)
{
	uint64_t first = (gva - TEST_GVA) / PAGE_SIZE, i;

	GUEST_SYNC(0);
	for (;;) {
		for (i = 0; i < npages; i++)
			GUEST_ASSERT_EQ(READ_ONCE(*(uint64_t *)(gva + i * PAGE_SIZE)),
					page_value(first + i) ^ READ_ONCE(g_gen));
		GUEST_SYNC(1);
	}
}

static void run_until_sync(struct kvm_vcpu *vcpu, uint64_t stage)
{
	struct ucall uc;

	vcpu_run(vcpu);
	switch (get_ucall(vcpu, &uc)) {
	case UCALL_SYNC:
		TEST_ASSERT(uc.args[1] == stage, "Guest at stage %lu, expected %lu",
			    uc.args[1], stage);
		break;
	case UCALL_ABORT:
		REPORT_GUEST_ASSERT(uc);
		break;
	default:
		TEST_FAIL("Unexpected exit: %s", exit_reason_str(vcpu->run->exit_reason));
	}
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;

	run_until_sync(vcpu, 0);
	for (;;) {
		pthread_barrier_wait(&round_start);
		if (READ_ONCE(done))
			break;
		run_until_sync(vcpu, 1);
		pthread_barrier_wait(&round_end);
	}
	return NULL;
}

static void set_count(struct kvm_vm *vm, bool use_cap, int max)
{
	int n = rand() % 8 ? 1 << (rand() % 7) : 0;

	if (use_cap)
		vm_enable_cap(vm, KVM_CAP_PTE_PREFETCH, n > max ? max : n);
}

int main(int argc, char *argv[])
{
	uint64_t per_vcpu = TEST_NPAGES / NR_VCPUS, i, gen, rounds = 12;
	struct kvm_vcpu *vcpus[NR_VCPUS];
	pthread_t threads[NR_VCPUS];
	bool use_cap = false;
	struct kvm_vm *vm;
	uint64_t *hva;
	int opt, j, max = 0;

	while ((opt = getopt(argc, argv, "cr:")) != -1) {
		switch (opt) {
		case 'c':
			use_cap = true;
			break;
		case 'r':
			rounds = strtoull(optarg, NULL, 0);
			break;
		default:
			printf("usage: %s [-c] [-r ROUNDS]\n", argv[0]);
			exit(KSFT_FAIL);
		}
	}
	if (use_cap) {
		TEST_REQUIRE(kvm_has_cap(KVM_CAP_PTE_PREFETCH));
		max = kvm_check_cap(KVM_CAP_PTE_PREFETCH);
	}

	vm = vm_create_with_vcpus(NR_VCPUS, guest_code, vcpus);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA, TEST_SLOT,
				    TEST_NPAGES, 0);
	virt_map(vm, TEST_GVA, TEST_GPA, TEST_NPAGES);
	hva = addr_gpa2hva(vm, TEST_GPA);
	for (i = 0; i < TEST_NPAGES; i++)
		*vm_get_page_table_entry(vm, TEST_GVA + i * PAGE_SIZE) |= PTE_ACCESSED_MASK;

	pthread_barrier_init(&round_start, NULL, NR_VCPUS + 1);
	pthread_barrier_init(&round_end, NULL, NR_VCPUS + 1);
	for (i = 0; i < NR_VCPUS; i++) {
		vcpu_args_set(vcpus[i], 2, TEST_GVA + i * per_vcpu * PAGE_SIZE, per_vcpu);
		pthread_create(&threads[i], NULL, vcpu_thread, vcpus[i]);
	}
	srand(1);
	for (gen = 1; gen <= rounds; gen++) {
		TEST_ASSERT(!madvise(hva, TEST_MEM_SIZE, MADV_DONTNEED),
			    "madvise(MADV_DONTNEED) failed");
		for (i = 0; i < TEST_NPAGES; i++)
			hva[i * PAGE_SIZE / 8] = page_value(i) ^ gen;
		g_gen = gen;
		sync_global_to_guest(vm, g_gen);
		set_count(vm, use_cap, max);

		pthread_barrier_wait(&round_start);
		for (j = 0; j < 4; j++) {
			usleep(5000);
			set_count(vm, use_cap, max);
			if (j == 1)
				TEST_ASSERT(!mprotect(hva, TEST_MEM_SIZE, PROT_READ),
					    "mprotect(PROT_READ) failed");
			else if (j == 2)
				TEST_ASSERT(!mprotect(hva, TEST_MEM_SIZE, PROT_READ | PROT_WRITE),
					    "mprotect(PROT_READ | PROT_WRITE) failed");
		}
		pthread_barrier_wait(&round_end);
	}
	WRITE_ONCE(done, true);
	pthread_barrier_wait(&round_start);
	for (i = 0; i < NR_VCPUS; i++)
		pthread_join(threads[i], NULL);
	kvm_vm_free(vm);
	printf("invalidate_race: %lu rounds, %d vCPUs, %s: every value right\n",
	       rounds, NR_VCPUS, use_cap ? "counts changed" : "KVM's default count");
	return 0;
}
