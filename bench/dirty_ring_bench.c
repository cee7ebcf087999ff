// SPDX-License-Identifier: GPL-2.0
/*
 * dirty_ring_bench: dirty rings on the base kernel and on the series.
 *
 * -x: pages KVM dirties with no running vCPU.  A Xen VM with per-vCPU dirty
 *     rings (and the VM ring of KVM_CAP_DIRTY_LOG_RING_VM where the kernel
 *     has it, unless -n), its shared_info and vcpu_info in a dirty-logged
 *     memslot that starts zeroed.  The host moves shared_info over N pages
 *     (KVM_XEN_HVM_SET_ATTR writes the wall clock into each) and sends an
 *     event channel after each move (KVM_XEN_HVM_EVTCHN_SEND writes
 *     shared_info and vcpu_info), with no vCPU running and nobody
 *     harvesting.  The ground truth is read from guest memory: the pages
 *     that are no longer zero.  The program then collects every ring and the
 *     dirty bitmap, as a migration's last pass does, and counts the written
 *     pages that none of them recorded: the pages lost.
 *
 * -s: an event channel storm, as a Xen guest taking interrupts gets.  The
 *     vCPU spins in the guest, which it leaves only when KVM makes it; the
 *     host sends N event channels (-p, default 5000) to it, clearing the
 *     pending bits before each as the guest's handler would, and collects
 *     the dirty log every H sends (-H, default 500), as a migration's
 *     passes do.  With dirty rings, and the VM ring where the kernel has
 *     it; with -B, no rings but the memslot's dirty bitmap, collected with
 *     KVM_GET_DIRTY_LOG.  Counts the entries (or bits) collected, the
 *     vCPU's exits with KVM_EXIT_DIRTY_RING_FULL (each followed by a
 *     collection, as a VMM does) and the time spent collecting.  With -v N,
 *     the sends go round-robin to N vCPUs, each with a vcpu_info page of
 *     its own (only vCPU 0 runs).
 *
 * -w: per-vCPU ring throughput.  The guest writes every page of a
 *     dirty-logged memslot, P times; the host harvests and resets the vCPU
 *     ring at every KVM_EXIT_DIRTY_RING_FULL and after every pass.
 *
 * Prints one "bench:" line of key=value pairs; runs unchanged on both kernels.
 */
#include <errno.h>
#include <pthread.h>
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

#ifndef KVM_CAP_DIRTY_LOG_RING_VM
#define KVM_CAP_DIRTY_LOG_RING_VM 240
#endif

#define TEST_SLOT	1
#define TEST_GPA	(1ULL << 32)
#define VCPU_RING_ENTRIES 4096
#define EVTCHN_PORT	3

static uint64_t g_npages;

static void guest_code(void)
{
	for (;;) {
		uint64_t i;

		for (i = 0; i < g_npages; i++)
			*(volatile uint64_t *)(TEST_GPA + i * PAGE_SIZE) = i + 1;
		GUEST_SYNC(0);
	}
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Overflow entries of the VM ring (KVM_DIRTY_GFN_SLOT_OVERFLOW) harvested. */
static uint64_t overflow_entries;

/*
 * Collect a ring's dirty entries for the test slot into seen[]; returns the
 * number of page entries, overflow entries are counted apart.
 */
static uint64_t harvest(struct kvm_dirty_gfn *ring, uint32_t entries,
			uint32_t *fetch, unsigned long *seen, uint64_t npages)
{
	uint64_t n = 0;

	for (;;) {
		struct kvm_dirty_gfn *e = &ring[*fetch & (entries - 1)];

		if (!(__atomic_load_n(&e->flags, __ATOMIC_ACQUIRE) &
		      KVM_DIRTY_GFN_F_DIRTY))
			break;
		if (e->slot == KVM_DIRTY_GFN_SLOT_OVERFLOW)
			overflow_entries++;
		else
			n++;
		if (seen && e->slot == TEST_SLOT && e->offset < npages)
			set_bit(e->offset, seen);
		__atomic_store_n(&e->flags, KVM_DIRTY_GFN_F_RESET,
				 __ATOMIC_RELEASE);
		(*fetch)++;
	}
	return n;
}

static struct kvm_vm *create_vm_vcpus(int nr_vcpus, uint64_t npages)
{
	struct kvm_vm *vm = __vm_create(VM_SHAPE_DEFAULT, nr_vcpus, npages);

	vm_enable_dirty_ring(vm, VCPU_RING_ENTRIES * sizeof(struct kvm_dirty_gfn));
	return vm;
}

static struct kvm_vm *create_vm(uint64_t npages)
{
	return create_vm_vcpus(1, npages);
}

static void add_vcpu_and_slot(struct kvm_vm *vm, struct kvm_vcpu **vcpu,
			      uint64_t npages)
{
	*vcpu = vm_vcpu_add(vm, 0, guest_code);
	vm_userspace_mem_region_add(vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, npages, KVM_MEM_LOG_DIRTY_PAGES);
	virt_map(vm, TEST_GPA, TEST_GPA, npages);
}

static void set_shinfo(struct kvm_vm *vm, uint64_t gfn)
{
	struct kvm_xen_hvm_attr ha = {
		.type = KVM_XEN_ATTR_TYPE_SHARED_INFO,
		.u.shared_info.gfn = gfn,
	};

	vm_ioctl(vm, KVM_XEN_HVM_SET_ATTR, &ha);
}

static void bench_xen(uint64_t npages, uint32_t vm_ring_bytes, const char *tag)
{
	struct kvm_xen_hvm_config hvmc = {
		.flags = KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL,
		.msr = 0x40000200,
	};
	uint64_t written = 0, in_vcpu = 0, in_vm = 0, in_bitmap = 0, lost = 0;
	uint64_t slot_pages = npages + 2, i, base = TEST_GPA >> 12;
	unsigned long *seen = bitmap_zalloc(slot_pages);
	unsigned long *bmap = bitmap_zalloc(slot_pages);
	struct kvm_dirty_gfn *vm_ring = NULL;
	struct kvm_xen_vcpu_attr vi = {
		.type = KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO,
		.u.gpa = TEST_GPA + PAGE_SIZE,
	};
	struct kvm_irq_routing_xen_evtchn e = {
		.port = EVTCHN_PORT,
		.priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL,
	};
	const char *vm_ring_state = "off";
	struct kvm_dirty_log log = {};
	uint32_t vcpu_fetch = 0, vm_fetch = 0;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	uint8_t *hva;
	int r;

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_XEN_HVM) & KVM_XEN_HVM_CONFIG_EVTCHN_SEND);
	vm = create_vm(slot_pages);
	if (!kvm_check_cap(KVM_CAP_DIRTY_LOG_RING_VM)) {
		vm_ring_state = "unsupported";
	} else if (vm_ring_bytes) {
		vm_enable_cap(vm, KVM_CAP_DIRTY_LOG_RING_VM, vm_ring_bytes);
		vm_ring = mmap(NULL, vm_ring_bytes, PROT_READ | PROT_WRITE,
			       MAP_SHARED, vm->fd,
			       KVM_DIRTY_LOG_PAGE_OFFSET * getpagesize());
		TEST_ASSERT(vm_ring != MAP_FAILED, "mmap of the VM ring");
		vm_ring_state = "on";
	}
	add_vcpu_and_slot(vm, &vcpu, slot_pages);
	hva = addr_gpa2hva(vm, TEST_GPA);
	memset(hva, 0, slot_pages * PAGE_SIZE);
	e.vcpu = vcpu->id;

	vm_ioctl(vm, KVM_XEN_HVM_CONFIG, &hvmc);
	vcpu_ioctl(vcpu, KVM_XEN_VCPU_SET_ATTR, &vi);

	/* Page 0 is unused, page 1 holds vcpu_info, shared_info moves. */
	for (i = 2; i < slot_pages; i++) {
		set_shinfo(vm, base + i);
		memset(hva + PAGE_SIZE, 0, 16);
		vm_ioctl(vm, KVM_XEN_HVM_EVTCHN_SEND, &e);
	}

	/* The last pass of a migration: every ring, then every bitmap. */
	in_vcpu = harvest(vcpu_map_dirty_ring(vcpu), VCPU_RING_ENTRIES,
			  &vcpu_fetch, seen, slot_pages);
	if (vm_ring)
		in_vm = harvest(vm_ring, vm_ring_bytes / sizeof(*vm_ring),
				&vm_fetch, seen, slot_pages);
	/* As api.rst asks after an overflow entry: reset, then collect. */
	kvm_vm_reset_dirty_ring(vm);
	log.slot = TEST_SLOT;
	log.dirty_bitmap = bmap;
	r = __vm_ioctl(vm, KVM_GET_DIRTY_LOG, &log);
	TEST_ASSERT(!r || errno == ENXIO, "KVM_GET_DIRTY_LOG: errno %d", errno);

	for (i = 0; i < slot_pages; i++) {
		bool nonzero = false;
		uint64_t j;

		for (j = 0; j < PAGE_SIZE && !nonzero; j++)
			nonzero = hva[i * PAGE_SIZE + j];
		if (!r && test_bit(i, bmap))
			in_bitmap++;
		if (!nonzero)
			continue;
		written++;
		if (!test_bit(i, seen) && (r || !test_bit(i, bmap)))
			lost++;
	}

	printf("bench: tag=%s vm_ring=%s vm_ring_bytes=%u pages=%lu dirty_pages_written=%lu "
	       "dirty_pages_lost=%lu dirty_vcpu_ring_entries=%lu dirty_vm_ring_entries=%lu "
	       "dirty_overflow_entries=%lu dirty_bitmap_pages=%lu\n",
	       tag, vm_ring_state, vm_ring ? vm_ring_bytes : 0, npages, written,
	       lost, in_vcpu, in_vm, overflow_entries, in_bitmap);
	kvm_vm_free(vm);
}

static void bench_vcpu_ring(uint64_t npages, int passes, const char *tag)
{
	uint64_t entries = 0, full_exits = 0, t0, ns;
	uint32_t fetch = 0;
	struct kvm_dirty_gfn *ring;
	struct kvm_vcpu *vcpu;
	struct kvm_vm *vm;
	struct ucall uc;
	int pass = 0;

	vm = create_vm(npages);
	add_vcpu_and_slot(vm, &vcpu, npages);
	g_npages = npages;
	sync_global_to_guest(vm, g_npages);
	ring = vcpu_map_dirty_ring(vcpu);

	/* A first pass maps the memory; the timed passes re-dirty it. */
	t0 = 0;
	while (pass <= passes) {
		vcpu_run(vcpu);
		entries += harvest(ring, VCPU_RING_ENTRIES, &fetch, NULL, 0);
		kvm_vm_reset_dirty_ring(vm);
		if (vcpu->run->exit_reason == KVM_EXIT_DIRTY_RING_FULL) {
			full_exits += !!t0;
			continue;
		}
		TEST_ASSERT_EQ(get_ucall(vcpu, &uc), UCALL_SYNC);
		if (!t0) {
			entries = 0;
			t0 = now_ns();
		}
		pass++;
	}
	ns = now_ns() - t0;

	/*
	 * Every page once per pass, plus at most one per full exit: the
	 * write that filled the ring is retried after the reset re-protected
	 * its page, and logs it again.
	 */
	TEST_ASSERT(entries >= (uint64_t)passes * npages &&
		    entries <= (uint64_t)passes * npages + full_exits,
		    "%lu ring entries for %d passes over %lu pages, %lu full exits",
		    entries, passes, npages, full_exits);
	printf("bench: tag=%s pages=%lu passes=%d dirty_ring_entries=%lu "
	       "dirty_ring_full_exits=%lu dirty_ms=%lu dirty_pages_per_ms=%lu\n",
	       tag, npages, passes, entries, full_exits, ns / 1000000,
	       entries * 1000000 / (ns ? ns : 1));
	kvm_vm_free(vm);
}

static uint64_t storm_stop, storm_spinning;

static void storm_guest_code(void)
{
	for (;;) {
		WRITE_ONCE(storm_spinning, 1);
		while (!READ_ONCE(storm_stop))
			cpu_relax();
		GUEST_SYNC(0);
	}
}

#define STORM_MAX_VCPUS	64

struct storm {
	struct kvm_vm *vm;
	struct kvm_vcpu *vcpu;
	int nr_pages;
	struct kvm_dirty_gfn *vm_ring;
	uint32_t vm_ring_entries;
	uint32_t vcpu_fetch, vm_fetch;
	bool bitmap;
	unsigned long *bmap;
	pthread_mutex_t lock;
	uint64_t vcpu_entries, vm_entries, bits, collections, collect_ns;
	uint64_t full_exits;
};

static void storm_get_dirty_log(struct storm *s)
{
	int i;

	kvm_vm_get_dirty_log(s->vm, TEST_SLOT, s->bmap);
	for (i = 0; i < s->nr_pages; i++)
		s->bits += test_bit(i, s->bmap);
}

/*
 * Collect the dirty log once, as a VMM's pass does; with rings, also the
 * bitmap when an overflow entry came, as api.rst asks.
 */
static void storm_collect(struct storm *s)
{
	uint64_t t0 = now_ns(), overflowed;

	pthread_mutex_lock(&s->lock);
	overflowed = overflow_entries;
	if (s->bitmap) {
		storm_get_dirty_log(s);
	} else {
		s->vcpu_entries += harvest(vcpu_map_dirty_ring(s->vcpu),
					   VCPU_RING_ENTRIES, &s->vcpu_fetch,
					   NULL, 0);
		if (s->vm_ring)
			s->vm_entries += harvest(s->vm_ring, s->vm_ring_entries,
						 &s->vm_fetch, NULL, 0);
		kvm_vm_reset_dirty_ring(s->vm);
		if (overflow_entries != overflowed)
			storm_get_dirty_log(s);
	}
	s->collections++;
	s->collect_ns += now_ns() - t0;
	pthread_mutex_unlock(&s->lock);
}

static void *storm_vcpu_thread(void *arg)
{
	struct storm *s = arg;
	struct ucall uc;

	for (;;) {
		vcpu_run(s->vcpu);
		if (s->vcpu->run->exit_reason == KVM_EXIT_DIRTY_RING_FULL) {
			s->full_exits++;
			storm_collect(s);
			continue;
		}
		TEST_ASSERT_EQ(get_ucall(s->vcpu, &uc), UCALL_SYNC);
		return NULL;
	}
}

static void bench_storm(uint64_t sends, uint64_t every, int nr_vcpus,
			bool bitmap, uint32_t vm_ring_bytes, const char *tag)
{
	struct kvm_xen_hvm_config hvmc = {
		.flags = KVM_XEN_HVM_CONFIG_INTERCEPT_HCALL,
		.msr = 0x40000200,
	};
	struct kvm_xen_vcpu_attr vi = {
		.type = KVM_XEN_VCPU_ATTR_TYPE_VCPU_INFO,
	};
	struct kvm_irq_routing_xen_evtchn e = {
		.port = EVTCHN_PORT,
		.priority = KVM_IRQ_ROUTING_XEN_EVTCHN_PRIO_2LEVEL,
	};
	struct storm s = { .bitmap = bitmap, .nr_pages = 1 + nr_vcpus };
	struct kvm_vcpu *vcpus[STORM_MAX_VCPUS];
	const char *vm_ring_state = "off";
	uint64_t soft_full = 0, overflows = 0, i, t0, storm_ns;
	pthread_t thread;
	uint8_t *hva;

	TEST_REQUIRE(kvm_check_cap(KVM_CAP_XEN_HVM) & KVM_XEN_HVM_CONFIG_EVTCHN_SEND);
	TEST_ASSERT(nr_vcpus > 0 && nr_vcpus <= STORM_MAX_VCPUS,
		    "1 to %d vCPUs", STORM_MAX_VCPUS);
	pthread_mutex_init(&s.lock, NULL);
	s.bmap = bitmap_zalloc(s.nr_pages);
	if (bitmap) {
		s.vm = __vm_create(VM_SHAPE_DEFAULT, nr_vcpus, s.nr_pages);
		vm_ring_bytes = 0;
	} else {
		s.vm = create_vm_vcpus(nr_vcpus, s.nr_pages);
	}
	if (!bitmap && !kvm_check_cap(KVM_CAP_DIRTY_LOG_RING_VM)) {
		vm_ring_state = "unsupported";
	} else if (vm_ring_bytes) {
		vm_enable_cap(s.vm, KVM_CAP_DIRTY_LOG_RING_VM, vm_ring_bytes);
		s.vm_ring = mmap(NULL, vm_ring_bytes, PROT_READ | PROT_WRITE,
				 MAP_SHARED, s.vm->fd,
				 KVM_DIRTY_LOG_PAGE_OFFSET * getpagesize());
		TEST_ASSERT(s.vm_ring != MAP_FAILED, "mmap of the VM ring");
		s.vm_ring_entries = vm_ring_bytes / sizeof(*s.vm_ring);
		vm_ring_state = "on";
	}
	/* vCPU 0 runs the guest; each vCPU's vcpu_info has a page of its own. */
	for (i = 0; i < nr_vcpus; i++)
		vcpus[i] = vm_vcpu_add(s.vm, i, storm_guest_code);
	s.vcpu = vcpus[0];
	vm_userspace_mem_region_add(s.vm, VM_MEM_SRC_ANONYMOUS, TEST_GPA,
				    TEST_SLOT, s.nr_pages, KVM_MEM_LOG_DIRTY_PAGES);
	hva = addr_gpa2hva(s.vm, TEST_GPA);
	vm_ioctl(s.vm, KVM_XEN_HVM_CONFIG, &hvmc);
	set_shinfo(s.vm, TEST_GPA >> 12);
	for (i = 0; i < nr_vcpus; i++) {
		vi.u.gpa = TEST_GPA + (1 + i) * PAGE_SIZE;
		vcpu_ioctl(vcpus[i], KVM_XEN_VCPU_SET_ATTR, &vi);
	}
	storm_collect(&s);
	s.vcpu_entries = s.vm_entries = s.bits = s.collections = 0;
	s.collect_ns = 0;

	pthread_create(&thread, NULL, storm_vcpu_thread, &s);
	/* Storm while the vCPU runs the guest. */
	while (!READ_ONCE(*(uint64_t *)addr_gva2hva(s.vm, (vm_vaddr_t)&storm_spinning)))
		usleep(1000);
	t0 = now_ns();
	for (i = 0; i < sends; i++) {
		uint64_t v = i % nr_vcpus;

		/* What the guest's event channel handler clears. */
		hva[0x800] = 0;
		memset(hva + (1 + v) * PAGE_SIZE, 0, 16);
		e.vcpu = vcpus[v]->id;
		vm_ioctl(s.vm, KVM_XEN_HVM_EVTCHN_SEND, &e);
		if ((i + 1) % every == 0)
			storm_collect(&s);
	}
	storm_ns = now_ns() - t0;
	*(uint64_t *)addr_gva2hva(s.vm, (vm_vaddr_t)&storm_stop) = 1;
	pthread_join(thread, NULL);
	storm_collect(&s);

	if (s.vm_ring) {
		soft_full = vm_get_stat(s.vm, "dirty_ring_vm_soft_full");
		overflows = vm_get_stat(s.vm, "dirty_ring_vm_overflows");
	}
	printf("bench: tag=%s log=%s vm_ring=%s vcpus=%d sends=%lu every=%lu "
	       "dirty_vcpu_ring_entries=%lu dirty_vm_ring_entries=%lu dirty_bitmap_bits=%lu "
	       "dirty_ring_full_exits=%lu vm_ring_soft_full=%lu vm_ring_overflows=%lu "
	       "collections=%lu collect_us=%lu storm_ms=%lu\n",
	       tag, bitmap ? "bitmap" : "rings", vm_ring_state, nr_vcpus, sends, every,
	       s.vcpu_entries, s.vm_entries, s.bits, s.full_exits, soft_full,
	       overflows, s.collections, s.collect_ns / 1000,
	       storm_ns / 1000000);
	kvm_vm_free(s.vm);
}

int main(int argc, char *argv[])
{
	uint32_t vm_ring_bytes = 4096;
	const char *tag = "dirty_ring";
	uint64_t mib = 4, pages = 0, every = 500;
	int opt, passes = 3, nr_vcpus = 1;
	bool bitmap = false;
	char mode = 0;

	while ((opt = getopt(argc, argv, "xswnBb:p:m:P:H:v:t:")) != -1) {
		switch (opt) {
		case 'x':
		case 's':
		case 'w':
			mode = opt;
			break;
		case 'B':
			bitmap = true;
			break;
		case 'H':
			every = strtoull(optarg, NULL, 0);
			break;
		case 'v':
			nr_vcpus = atoi(optarg);
			break;
		case 'n':
			vm_ring_bytes = 0;
			break;
		case 'b':
			vm_ring_bytes = strtoul(optarg, NULL, 0);
			break;
		case 'p':
			pages = strtoull(optarg, NULL, 0);
			break;
		case 'm':
			mib = strtoull(optarg, NULL, 0);
			break;
		case 'P':
			passes = atoi(optarg);
			break;
		case 't':
			tag = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s -x [-n] [-b BYTES] [-p PAGES] | -s [-B] [-n] [-b BYTES] [-p SENDS] [-H EVERY] [-v VCPUS] | -w [-m MIB] [-P PASSES] [-t TAG]\n",
				argv[0]);
			exit(KSFT_FAIL);
		}
	}
	TEST_REQUIRE(kvm_has_cap(KVM_CAP_DIRTY_LOG_RING));

	if (mode == 'x')
		bench_xen(pages ? pages : 1024, vm_ring_bytes, tag);
	else if (mode == 's')
		bench_storm(pages ? pages : 5000, every ? every : 1, nr_vcpus,
			    bitmap, vm_ring_bytes, tag);
	else if (mode == 'w')
		bench_vcpu_ring(mib << 8, passes, tag);
	else
		TEST_FAIL("-x, -s or -w");
	return 0;
}
