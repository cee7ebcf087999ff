// SPDX-License-Identifier: GPL-2.0
/*
 * Memory writer for the end-to-end live migration test (runs in the L2
 * guest, statically linked).
 *
 *   memwriter PAGES RATE
 *
 * Fills PAGES 4 KiB pages, then rewrites them one after another, about RATE
 * pages a second (0: as fast as it can), until SIGUSR1; then verifies every
 * page and exits 0 if all are right, 1 if any is not.
 *
 * Every rewrite of page i bumps its generation gen[i] and fills the page with
 * a header (magic, i, gen[i]) and a pseudo-random stream seeded by (i, gen[i]);
 * sum[i] is the page's checksum, computed from what was written.  The tables
 * live in guest memory like the pages, so a page (or a table page) that a
 * migration failed to resend after its last write shows up as:
 *   - a header or body that is not the stream for (i, gen[i]), or
 *   - a checksum that is not sum[i], or
 *   - generations that do not add up to the number of writes done.
 *
 * Each page is also checked (header and checksum) just before it is rewritten,
 * so that a page damaged by a migration is caught even though the writer
 * runs on at the destination before the final check.
 *
 * It prints "progress writes=N passes=P" about once a second while writing,
 * and one "memwriter: PASS|FAIL ..." line at the end.
 *
 *   memwriter corrupt FILE
 *
 * Negative control, run in L1 on a migration stream saved to FILE: flips one
 * byte in every copy of one memwriter page (the one sent last) in the stream,
 * so that the verification at the destination must fail.
 *
 *   memwriter cmpmem SRC DST
 *
 * Run in L1 on two guest-physical memory images (QEMU's pmemsave): the source
 * L2's when the migration completed (vCPUs stopped) and the destination's once
 * it loaded the stream, before it runs.  Dirty tracking lost nothing iff they
 * are equal; prints how many 4 KiB pages differ and the first ones, exits 0
 * if none does, 1 if any does.
 */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096
#define WORDS (PAGE / 8)
#define MAGIC 0x4532456d656d7772ULL	/* "rwmemE2E" */

static volatile sig_atomic_t stop;

static void on_usr1(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t word(uint64_t i, uint64_t gen, unsigned int k)
{
	if (k == 0)
		return MAGIC;
	if (k == 1)
		return i;
	if (k == 2)
		return gen;
	return mix((i << 32) ^ (gen << 12) ^ k);
}

static uint64_t checksum(const uint64_t *p)
{
	uint64_t s = 0xcbf29ce484222325ULL;
	unsigned int k;

	for (k = 0; k < WORDS; k++)
		s = (s ^ p[k]) * 0x100000001b3ULL;
	return s;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long reported;

/*
 * Is page i what its last write left there?  The full check compares every
 * word with the stream for (i, gen[i]); the quick one (before each rewrite)
 * only the header and the checksum.
 */
static int page_ok(const uint64_t *mem, const uint64_t *gen,
		   const uint64_t *sum, uint64_t i, int full)
{
	const uint64_t *p = mem + i * WORDS;
	uint64_t c = checksum(p);
	int ok = c == sum[i] && p[0] == MAGIC && p[1] == i && p[2] == gen[i];
	unsigned int k;

	for (k = 0; ok && full && k < WORDS; k++)
		ok = p[k] == word(i, gen[i], k);
	if (!ok && reported++ < 10)
		printf("memwriter: page %llu bad (%s check): gen %llu, header gen %llu, checksum %016llx want %016llx\n",
		       (unsigned long long)i, full ? "final" : "pre-write",
		       (unsigned long long)gen[i], (unsigned long long)p[2],
		       (unsigned long long)c, (unsigned long long)sum[i]);
	return ok;
}

/*
 * The offsets of memwriter pages in a migration stream: MAGIC at the start of
 * a page record's body (after the big-endian address | flags word with
 * RAM_SAVE_FLAG_PAGE, 0x08, and CONTINUE, 0x20).  Calls fn on each, in order.
 */
static void for_each_page(unsigned char *p, size_t size,
			  void (*fn)(unsigned char *page, uint64_t idx, void *arg),
			  void *arg)
{
	uint64_t magic = MAGIC, idx;
	size_t off;

	for (off = 8; off + PAGE <= size; off++) {
		if (memcmp(p + off, &magic, 8) || (p[off - 1] & 0x28) != 0x28)
			continue;
		memcpy(&idx, p + off + 8, 8);
		fn(p + off, idx, arg);
	}
}

static void last_idx(unsigned char *page, uint64_t idx, void *arg)
{
	(void)page;
	*(uint64_t *)arg = idx;
}

static unsigned long flipped;

static void flip(unsigned char *page, uint64_t idx, void *arg)
{
	if (idx == *(uint64_t *)arg) {
		page[3000] ^= 0x55;
		flipped++;
	}
}

static int corrupt(const char *path)
{
	uint64_t idx = ~0ULL;
	unsigned char *p;
	struct stat st;
	int fd;

	fd = open(path, O_RDWR);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return 2;
	}
	p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	/*
	 * The page last sent, in every copy the stream has of it: the guest
	 * kernel may have moved the page (THP collapse, compaction) and left
	 * stale copies at other guest-physical addresses, so damaging one copy
	 * might miss the one the writer ends up with.
	 */
	for_each_page(p, st.st_size, last_idx, &idx);
	if (idx == ~0ULL) {
		printf("memwriter: no memwriter page in %s\n", path);
		return 1;
	}
	for_each_page(p, st.st_size, flip, &idx);
	msync(p, st.st_size, MS_SYNC);
	printf("memwriter: corrupted page %llu: one byte in each of its %lu copies in the stream\n",
	       (unsigned long long)idx, flipped);
	return 0;
}

static unsigned char *map_image(const char *path, size_t *size)
{
	struct stat st;
	void *p;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(path);
		return NULL;
	}
	p = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (p == MAP_FAILED) {
		perror("mmap");
		return NULL;
	}
	*size = st.st_size;
	return p;
}

static int cmpmem(const char *src, const char *dst)
{
	size_t ssize, dsize, off, pages, differ = 0;
	unsigned char *s, *d;
	uint64_t magic = MAGIC;

	s = map_image(src, &ssize);
	d = map_image(dst, &dsize);
	if (!s || !d)
		return 2;
	if (ssize != dsize || !ssize || ssize % PAGE) {
		printf("memwriter: images of %zu and %zu bytes\n", ssize, dsize);
		return 2;
	}
	pages = ssize / PAGE;
	for (off = 0; off < ssize; off += PAGE) {
		if (!memcmp(s + off, d + off, PAGE))
			continue;
		if (differ++ < 16)
			printf("memwriter: gpa 0x%zx differs%s\n", off,
			       memcmp(s + off, &magic, 8) ? "" :
			       " (a memwriter page at the source)");
	}
	printf("memwriter: images %s: %zu of %zu pages differ\n",
	       differ ? "DIFFER" : "equal", differ, pages);
	return differ ? 1 : 0;
}

int main(int argc, char **argv)
{
	uint64_t npages, rate, i, writes = 0, total, bad = 0, gsum = 0;
	uint64_t *mem, *gen, *sum;
	unsigned long passes = 0;
	double t0, next;
	unsigned int k;

	if (argc < 3) {
		fprintf(stderr, "usage: memwriter PAGES RATE | corrupt FILE | cmpmem SRC DST\n");
		return 2;
	}
	if (!strcmp(argv[1], "cmpmem"))
		return argc == 4 ? cmpmem(argv[2], argv[3]) : 2;
	if (!strcmp(argv[1], "corrupt"))
		return corrupt(argv[2]);
	npages = strtoull(argv[1], NULL, 0);
	rate = strtoull(argv[2], NULL, 0);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGUSR1, on_usr1);

	mem = mmap(NULL, npages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	gen = calloc(npages, sizeof(*gen));
	sum = calloc(npages, sizeof(*sum));
	if (mem == MAP_FAILED || !gen || !sum) {
		perror("memwriter: alloc");
		return 2;
	}
	mlockall(MCL_CURRENT);

	/* One write of page i, the tables last. */
#define WRITE_PAGE(i) do {						\
		uint64_t *p_ = mem + (i) * WORDS, g_ = gen[i] + 1;	\
		for (k = 0; k < WORDS; k++)				\
			p_[k] = word(i, g_, k);				\
		sum[i] = checksum(p_);					\
		gen[i] = g_;						\
	} while (0)

	for (i = 0; i < npages; i++)
		WRITE_PAGE(i);
	printf("memwriter: ready pages=%llu rate=%llu\n",
	       (unsigned long long)npages, (unsigned long long)rate);

	t0 = now();
	next = t0 + 1;
	i = 0;
	while (!stop) {
		/*
		 * Check the page before rewriting it: after a migration the
		 * writer runs on before the final check, and would otherwise
		 * overwrite a page that arrived stale or damaged.
		 */
		if (!page_ok(mem, gen, sum, i, 0))
			bad++;
		WRITE_PAGE(i);
		writes++;
		if (++i == npages) {
			i = 0;
			passes++;
		}
		/* Pace the writes (in bursts of 64 pages). */
		if (rate && (writes & 63) == 0) {
			double due = t0 + (double)writes / rate, t = now();

			if (due > t)
				usleep((useconds_t)((due - t) * 1e6));
		}
		if ((writes & 63) == 0 && now() >= next) {
			printf("progress writes=%llu passes=%lu\n",
			       (unsigned long long)writes, passes);
			next += 1;
		}
	}

	/* Verify every page against its generation and checksum. */
	for (i = 0; i < npages; i++) {
		if (!page_ok(mem, gen, sum, i, 1))
			bad++;
		gsum += gen[i];
	}
	total = npages + writes;	/* the first fill, then the rewrites */
	if (gsum != total) {
		printf("memwriter: generations add up to %llu, %llu writes were done\n",
		       (unsigned long long)gsum, (unsigned long long)total);
		bad++;
	}
	printf("memwriter: %s pages=%llu bad=%llu writes=%llu passes=%lu secs=%.1f\n",
	       bad ? "FAIL" : "PASS", (unsigned long long)npages,
	       (unsigned long long)bad, (unsigned long long)writes, passes,
	       now() - t0);
	return bad ? 1 : 0;
}
