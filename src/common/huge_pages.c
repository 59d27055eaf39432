/*
 * src/common/huge_pages.c
 *    Large private buffers backed by transparent huge pages.
 *
 * The entity store writes its rows once into memory it has just allocated,
 * so a large store pays the kernel one page fault per 4 kB page touched:
 * on a virtual machine that is a third of a 10M-row funnel in a fresh
 * backend.  Where the kernel offers transparent huge pages on request
 * (Linux, /sys/kernel/mm/transparent_hugepage/enabled "madvise" or
 * "always"), asking for them makes that one fault per 2 MB.  Elsewhere the
 * advice is ignored and nothing else changes.
 */
#include "postgres.h"

#ifndef WIN32
#include <sys/mman.h>
#endif

#include "common/huge_pages.h"

/*
 * Ask for huge pages on the whole 2 MB pages inside [start, start + len):
 * advice only, for memory not touched yet.
 */
void
funnel_advise_huge_pages(void *start, Size len)
{
#ifdef MADV_HUGEPAGE
	uintptr_t	from = TYPEALIGN(FUNNEL_HUGE_PAGE_SIZE, (uintptr_t) start);
	uintptr_t	to = TYPEALIGN_DOWN(FUNNEL_HUGE_PAGE_SIZE, (uintptr_t) start + len);

	/* a refusal (no THP in this kernel) leaves ordinary pages: ignored */
	if (to > from)
		(void) madvise((void *) from, to - from, MADV_HUGEPAGE);
#endif
}

/*
 * Map the pages of [start, start + len) in one call, before they are
 * copied to (write) or from: shared memory has no huge pages by default,
 * and one fault per 4 kB page costs a virtual machine far more than the
 * kernel's loop.  Advice only: a kernel without it (before Linux 5.14)
 * takes the faults as they come.
 */
void
funnel_prefault(void *start, Size len, bool write)
{
#if defined(MADV_POPULATE_READ) && defined(MADV_POPULATE_WRITE)
	uintptr_t	from = TYPEALIGN_DOWN(4096, (uintptr_t) start);
	uintptr_t	to = TYPEALIGN(4096, (uintptr_t) start + len);

	if (to > from)
		(void) madvise((void *) from, to - from, write ? MADV_POPULATE_WRITE : MADV_POPULATE_READ);
#endif
}

/*
 * size bytes in cxt, freed with it (the pointer is not one pfree accepts).
 * From 2 MB up they start on a 2 MB boundary and are advised as huge pages;
 * the alignment slack before them is address space, never touched.
 */
char *
funnel_alloc_huge_pages(MemoryContext cxt, Size size)
{
	char	   *raw;
	char	   *start;

	if (size < FUNNEL_HUGE_PAGE_SIZE)
		return MemoryContextAllocHuge(cxt, size);
	raw = MemoryContextAllocHuge(cxt, size + FUNNEL_HUGE_PAGE_SIZE);
	start = (char *) TYPEALIGN(FUNNEL_HUGE_PAGE_SIZE, raw);
	funnel_advise_huge_pages(start, size);
	return start;
}
