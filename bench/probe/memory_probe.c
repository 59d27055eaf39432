/*
 * bench/probe/memory_probe.c
 *    Is the machine in a slow phase?  Three one-core measures, for telling a
 *    quiet run of bench/run.sh from one the host's other guests slow down:
 *    reading 512 MB sequentially (bandwidth), a chase of dependent loads over
 *    a random cycle of 64 MB (the memory's latency) and a loop of dependent
 *    multiply-adds that touches no memory (the core's speed).
 *
 *    cc -O2 -o /tmp/memory_probe bench/probe/memory_probe.c && /tmp/memory_probe
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double
seconds(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

int
main(void)
{
	size_t		n = ((size_t) 512 << 20) / 8;
	size_t		m = ((size_t) 64 << 20) / 8;
	size_t		loads = 20000000;
	uint64_t   *a = malloc(n * 8);
	uint64_t   *next = malloc(m * 8);
	uint64_t	sum = 0,
				k = 0,
				h = 1;
	double		best = 1e9,
				t;

	if (a == NULL || next == NULL)
		return 1;
	for (size_t i = 0; i < n; i++)
		a[i] = i;
	for (int r = 0; r < 5; r++)
	{
		t = seconds();
		for (size_t i = 0; i < n; i++)
			sum += a[i];
		t = seconds() - t;
		if (t < best)
			best = t;
	}
	/* Sattolo's shuffle: one cycle through every slot */
	for (size_t i = 0; i < m; i++)
		next[i] = i;
	srand(1);
	for (size_t i = m - 1; i > 0; i--)
	{
		size_t		j = (((size_t) rand() << 16) ^ (size_t) rand()) % i;
		uint64_t	x = next[i];

		next[i] = next[j];
		next[j] = x;
	}
	t = seconds();
	for (size_t i = 0; i < loads; i++)
		k = next[k];
	t = seconds() - t;
	double		chase = t / loads * 1e9;

	t = seconds();
	for (uint64_t i = 0; i < 400000000; i++)
		h = h * 6364136223846793005ULL + 1442695040888963407ULL;
	t = seconds() - t;
	/* the results are printed so that no loop is optimised away */
	printf("sequential read %.2f GB/s, dependent load %.1f ns, 400M multiply-adds %.0f ms (%d)\n",
		   0.5 / best, chase, t * 1e3, (int) ((sum ^ k ^ h) & 1));
	return 0;
}
