/*
 * src/common/huge_pages.h
 *    Large private buffers backed by transparent huge pages where the
 *    system offers them (common/huge_pages.c).
 */
#ifndef FUNNEL_HUGE_PAGES_H
#define FUNNEL_HUGE_PAGES_H

#include "postgres.h"

/* buffers smaller than this are allocated and touched as they are */
#define FUNNEL_HUGE_PAGE_SIZE	((Size) 2 * 1024 * 1024)

extern void funnel_advise_huge_pages(void *start, Size len);
extern void funnel_prefault(void *start, Size len, bool write);
extern char *funnel_alloc_huge_pages(MemoryContext cxt, Size size);

#endif							/* FUNNEL_HUGE_PAGES_H */
