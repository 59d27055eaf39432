/*
 * src/report/funnel_summary.h
 *    The funnel_summary type: per step, the entities that reached it and a
 *    mergeable log-bucketed histogram of their times from step 1 (see
 *    funnel_summary.c), shared with the reports (funnel_report.c).
 */
#ifndef FUNNEL_SUMMARY_H
#define FUNNEL_SUMMARY_H

#include "engine/funnel.h"

/*
 * Relative accuracy of the time distribution: a time t > 0 falls in bucket
 * i = ceil(log_gamma(t)), i.e. gamma^(i-1) < t <= gamma^i, with
 * gamma = (1 + alpha) / (1 - alpha); the bucket's representative value
 * 2 gamma^i / (gamma + 1) is within alpha * t of every t in it.
 */
#define FS_ALPHA		0.01
/* highest bucket index: ceil(log_gamma(2^63)) = 2184 */
#define FS_MAX_BUCKET	2200

#define FS_VERSION		1		/* without step times */
#define FS_VERSION_STEP_TIMES 2 /* with them (FS_FLAG_STEP_TIMES) */
#define FS_FLAG_OPEN	0x01	/* funnel_event form: steps = highest seen */
#define FS_FLAG_STEP_TIMES 0x02 /* also times from each step to the next */
#define FS_FLAG_OPTIONS	0x04	/* made with product-funnel options: "options"
								 * identifies them (funnel_options_id) */

typedef struct FunnelSummaryStep
{
	int64		entities;		/* entities that reached the step */
	int64		zero;			/* of them, reached it at time 0 */
	int64		min_us;			/* shortest time from step 1 (entities > 0) */
	int64		max_us;			/* longest */
	int32		first;			/* its buckets: [first, first + nbuckets) */
	int32		nbuckets;
} FunnelSummaryStep;

/*
 * The stored value (a varlena, 8-byte aligned): header, nsteps steps (times
 * from step 1), with FS_FLAG_STEP_TIMES (version 2) nsteps more (times from
 * the step before, on the chain the level is counted on; 0 at step 1), then
 * int64 counts[nbuckets] and int16 indexes[nbuckets], each step's buckets
 * contiguous and in increasing index order.
 */
typedef struct FunnelSummary
{
	int32		vl_len_;
	uint8		version;
	uint8		flags;
	uint8		mode;
	uint8		nsteps;			/* 0 only for an open funnel with no step seen */
	int32		nbuckets;
	uint32		options;		/* FS_FLAG_OPTIONS: which options, else 0 */
	int64		window;			/* microseconds */
	FunnelSummaryStep steps[FLEXIBLE_ARRAY_MEMBER];
} FunnelSummary;

#define FS_NSTORED(s)	((s)->nsteps * (((s)->flags & FS_FLAG_STEP_TIMES) ? 2 : 1))
#define FS_COUNTS(s)	((int64 *) ((char *) (s) + offsetof(FunnelSummary, steps) + \
									sizeof(FunnelSummaryStep) * FS_NSTORED(s)))
#define FS_INDEXES(s)	((int16 *) (FS_COUNTS(s) + (s)->nbuckets))

#define PG_GETARG_FUNNEL_SUMMARY_P(n) ((FunnelSummary *) PG_DETOAST_DATUM(PG_GETARG_DATUM(n)))

/* time of quantile q (0..1) of step k (1-based) in microseconds; false when no entity */
extern bool funnel_summary_quantile(const FunnelSummary *s, int step, double q, int64 *result);
/* the same for one stored step's times (steps[0 .. FS_NSTORED - 1]) */
extern bool funnel_summary_step_quantile(const FunnelSummary *s, const FunnelSummaryStep *ss,
										 double q, int64 *result);
/* mean of one stored step's times (within FS_ALPHA); false when no entity */
extern bool funnel_summary_step_mean(const FunnelSummary *s, const FunnelSummaryStep *ss,
									 double *result);

#endif							/* FUNNEL_SUMMARY_H */
