/*
 * src/report/funnel_report.c
 *    What people read from a funnel_summary: funnel_report (one row per step,
 *    stable columns for BI tools), funnel_chart (a bar chart as text for
 *    psql) and funnel_svg (a standalone SVG chart).
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "funcapi.h"
#include "common/interval_usecs.h"
#include "common/svg_escape.h"
#include "engine/funnel.h"
#include "report/funnel_summary.h"
#include "mb/pg_wchar.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

/* ---------- shared ---------- */

/*
 * The step names: the given array (one non-NULL name per step) or "step k".
 */
static char **
step_names(FunctionCallInfo fcinfo, int argno, int nsteps)
{
	char	  **names = palloc(sizeof(char *) * Max(nsteps, 1));
	int			k;

	if (PG_ARGISNULL(argno))
	{
		for (k = 0; k < nsteps; k++)
			names[k] = psprintf("step %d", k + 1);
	}
	else
	{
		ArrayType  *arr = PG_GETARG_ARRAYTYPE_P(argno);
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		if (ARR_NDIM(arr) > 1)
			ereport(ERROR,
					(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
					 errmsg("step names must be a one-dimensional array")));
		deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		if (n != nsteps)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%d step names given for a funnel of %d steps", n, nsteps),
					 errhint("Give one name per step, in funnel order, or NULL to number the steps.")));
		for (k = 0; k < n; k++)
		{
			if (nulls[k])
				ereport(ERROR,
						(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
						 errmsg("the name of step %d must not be NULL", k + 1),
						 errhint("Give one non-NULL name per step, or NULL instead of the whole array to number the steps.")));
			names[k] = TextDatumGetCString(elems[k]);
		}
	}
	return names;
}

/* entities[k] / entities[k-1]; step 1: 1 when anyone entered.  false: 0/0 */
static bool
conv_prev(const FunnelSummary *s, int k, double *r)
{
	int64		prev = (k == 0) ? s->steps[0].entities : s->steps[k - 1].entities;

	if (prev == 0)
		return false;
	*r = (double) s->steps[k].entities / (double) prev;
	return true;
}

static bool
conv_start(const FunnelSummary *s, int k, double *r)
{
	if (s->steps[0].entities == 0)
		return false;
	*r = (double) s->steps[k].entities / (double) s->steps[0].entities;
	return true;
}

/* ---------- funnel_report ---------- */

/*
 * funnel_report(summary, step_names): one row per step with entities,
 * conversion, drop-off and the median and 90th percentile time from step 1.
 */
PG_FUNCTION_INFO_V1(funnel_report);
Datum
funnel_report(PG_FUNCTION_ARGS)
{
	FunnelSummary *s;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	  **names;
	int			k;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;		/* no summary: no rows */
	s = PG_GETARG_FUNNEL_SUMMARY_P(0);
	names = step_names(fcinfo, 1, s->nsteps);
	for (k = 0; k < s->nsteps; k++)
	{
		Datum		values[9];
		bool		nulls[9] = {0};
		double		r;
		int64		us;
		int64		prev = (k == 0) ? s->steps[0].entities : s->steps[k - 1].entities;

		values[0] = Int32GetDatum(k + 1);
		values[1] = CStringGetTextDatum(names[k]);
		values[2] = Int64GetDatum(s->steps[k].entities);
		if (conv_prev(s, k, &r))
			values[3] = Float8GetDatum(r);
		else
			nulls[3] = true;
		if (conv_start(s, k, &r))
			values[4] = Float8GetDatum(r);
		else
			nulls[4] = true;
		/* lost on the way from the previous step to this one */
		values[5] = Int64GetDatum(prev - s->steps[k].entities);
		if (prev > 0)
			values[6] = Float8GetDatum((double) (prev - s->steps[k].entities) / (double) prev);
		else
			nulls[6] = true;
		if (funnel_summary_quantile(s, k + 1, 0.5, &us))
			values[7] = IntervalPGetDatum(funnel_usecs_interval(us));
		else
			nulls[7] = true;
		if (funnel_summary_quantile(s, k + 1, 0.9, &us))
			values[8] = IntervalPGetDatum(funnel_usecs_interval(us));
		else
			nulls[8] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* ---------- funnel_step_times ---------- */

static void
put_time(bool ok, int64 us, Datum *value, bool *isnull)
{
	if (ok)
		*value = IntervalPGetDatum(funnel_usecs_interval(us));
	else
		*isnull = true;
}

/* median, 90th percentile and mean of a stored step's times */
static void
put_times(const FunnelSummary *s, const FunnelSummaryStep *ss, Datum *values, bool *nulls)
{
	int64		us = 0;
	double		mean = 0.0;
	bool		ok;

	ok = funnel_summary_step_quantile(s, ss, 0.5, &us);
	put_time(ok, us, &values[0], &nulls[0]);
	ok = funnel_summary_step_quantile(s, ss, 0.9, &us);
	put_time(ok, us, &values[1], &nulls[1]);
	ok = funnel_summary_step_mean(s, ss, &mean);
	put_time(ok, (int64) rint(mean), &values[2], &nulls[2]);
}

/*
 * funnel_step_times(summary, step_names): one row per step with the
 * median, 90th percentile and mean time from the step before and from step
 * 1, on the chain each entity's level is counted on (a summary made with
 * the mode "step_times").
 */
PG_FUNCTION_INFO_V1(funnel_step_times);
Datum
funnel_step_times(PG_FUNCTION_ARGS)
{
	FunnelSummary *s;
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	  **names;
	int			k;

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	s = PG_GETARG_FUNNEL_SUMMARY_P(0);
	if (!(s->flags & FS_FLAG_STEP_TIMES))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("this funnel summary has no times from step to step"),
				 errhint("Make the summaries with the mode \"step_times\", e.g. funnel_summary('1 day', 'step_times', ...); a rollup keeps them only when every summary has them.")));
	names = step_names(fcinfo, 1, s->nsteps);
	for (k = 0; k < s->nsteps; k++)
	{
		Datum		values[9];
		bool		nulls[9] = {0};

		values[0] = Int32GetDatum(k + 1);
		values[1] = CStringGetTextDatum(names[k]);
		values[2] = Int64GetDatum(s->steps[k].entities);
		put_times(s, &s->steps[s->nsteps + k], &values[3], &nulls[3]);
		put_times(s, &s->steps[k], &values[6], &nulls[6]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/* ---------- funnel_chart: text for psql ---------- */

#define CHART_MAX_NAME	24
#define CHART_MIN_BAR	10
#define CHART_PCT		7
#define CHART_MAX_WIDTH 1000

/* control characters would break the lines: blank them */
static char *
sanitize(const char *s)
{
	char	   *r = pstrdup(s);
	char	   *p;

	for (p = r; *p; p++)
		if ((unsigned char) *p < 0x20 || *p == 0x7f)
			*p = ' ';
	return r;
}

static int
display_width(const char *s)
{
	int			w = 0;

	while (*s)
	{
		int			d = pg_dsplen(s);

		w += Max(d, 0);
		s += pg_mblen(s);
	}
	return w;
}

/* s cut to at most maxw display columns (marking the cut), then padded */
static void
append_fit(StringInfo buf, const char *s, int maxw, bool unicode)
{
	int			w = display_width(s);

	if (w <= maxw)
	{
		appendStringInfoString(buf, s);
		appendStringInfoSpaces(buf, maxw - w);
		return;
	}
	w = 0;
	while (*s)
	{
		int			d = Max(pg_dsplen(s), 0);
		int			l = pg_mblen(s);

		if (w + d > maxw - 1)
			break;
		appendBinaryStringInfo(buf, s, l);
		w += d;
		s += l;
	}
	appendStringInfoString(buf, unicode ? "\xe2\x80\xa6" : "~");
	appendStringInfoSpaces(buf, maxw - 1 - w);
}

static void
append_right(StringInfo buf, const char *s, int w)
{
	int			len = (int) strlen(s);	/* ASCII only */

	if (len < w)
		appendStringInfoSpaces(buf, w - len);
	appendStringInfoString(buf, s);
}

static char *
pct_text(bool valid, double r)
{
	return valid ? psprintf("%.1f%%", r * 100.0) : pstrdup("-");
}

/*
 * funnel_chart(summary, step_names, width): the funnel as text bars, one row
 * per step, scaled to width characters.
 */
PG_FUNCTION_INFO_V1(funnel_chart);
Datum
funnel_chart(PG_FUNCTION_ARGS)
{
	FunnelSummary *s;
	char	  **names;
	int32		width;
	bool		unicode = (GetDatabaseEncoding() == PG_UTF8);
	static const char *const partial[8] = {
		"", "\xe2\x96\x8f", "\xe2\x96\x8e", "\xe2\x96\x8d",
		"\xe2\x96\x8c", "\xe2\x96\x8b", "\xe2\x96\x8a", "\xe2\x96\x89"
	};
	StringInfoData buf;
	int			k,
				L = 4,
				C = 8,
				B,
				fixed;
	int64		top;
	char		digits[32];

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = PG_GETARG_FUNNEL_SUMMARY_P(0);
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("chart width must not be NULL")));
	width = PG_GETARG_INT32(2);
	names = step_names(fcinfo, 1, s->nsteps);
	top = s->nsteps > 0 ? s->steps[0].entities : 0;
	for (k = 0; k < s->nsteps; k++)
	{
		names[k] = sanitize(names[k]);
		L = Max(L, display_width(names[k]));
	}
	L = Min(L, CHART_MAX_NAME);
	snprintf(digits, sizeof(digits), INT64_FORMAT, top);
	C = Max(C, (int) strlen(digits));
	/* name, bar, entities, % of start, % of previous, one space between */
	fixed = C + 2 * CHART_PCT + 4;
	if (width > CHART_MAX_WIDTH || width < fixed + 4 + CHART_MIN_BAR)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("chart width %d is out of range", width),
				 errdetail("The chart of this funnel needs a width from %d to %d characters.",
						   fixed + 4 + CHART_MIN_BAR, CHART_MAX_WIDTH)));
	/* long names give way to the bar, down to 4 columns */
	if (width - fixed - L < CHART_MIN_BAR)
		L = width - fixed - CHART_MIN_BAR;
	B = width - fixed - L;

	initStringInfo(&buf);
	append_fit(&buf, "step", L, unicode);
	appendStringInfoChar(&buf, ' ');
	appendStringInfoSpaces(&buf, B);
	appendStringInfoChar(&buf, ' ');
	append_right(&buf, "entities", C);
	appendStringInfoChar(&buf, ' ');
	append_right(&buf, "% start", CHART_PCT);
	appendStringInfoChar(&buf, ' ');
	append_right(&buf, "% prev", CHART_PCT);
	for (k = 0; k < s->nsteps; k++)
	{
		int64		c = s->steps[k].entities;
		int			used = 0;
		double		r = 0.0;
		bool		ok;

		appendStringInfoChar(&buf, '\n');
		append_fit(&buf, names[k], L, unicode);
		appendStringInfoChar(&buf, ' ');
		if (top > 0 && c > 0)
		{
			double		frac = (double) c / (double) top;

			if (unicode)
			{
				int			eighths = (int) rint(frac * B * 8);
				int			j;

				eighths = Max(eighths, 1);	/* anyone there: a visible sliver */
				for (j = 0; j < eighths / 8; j++)
					appendStringInfoString(&buf, "\xe2\x96\x88");
				appendStringInfoString(&buf, partial[eighths % 8]);
				used = eighths / 8 + (eighths % 8 ? 1 : 0);
			}
			else
			{
				int			n = Max((int) rint(frac * B), 1);

				for (used = 0; used < n; used++)
					appendStringInfoChar(&buf, '#');
			}
		}
		appendStringInfoSpaces(&buf, B - used);
		appendStringInfoChar(&buf, ' ');
		snprintf(digits, sizeof(digits), INT64_FORMAT, c);
		append_right(&buf, digits, C);
		appendStringInfoChar(&buf, ' ');
		ok = conv_start(s, k, &r);
		append_right(&buf, pct_text(ok, r), CHART_PCT);
		appendStringInfoChar(&buf, ' ');
		ok = conv_prev(s, k, &r);
		append_right(&buf, pct_text(ok, r), CHART_PCT);
	}
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}

/* ---------- funnel_svg ---------- */

/* a compact duration: 0s, 850ms, 45s, 12m 5s, 3h, 3h 20m, 2d 4h */
static char *
duration_text(int64 us)
{
	int64		s = us / USECS_PER_SEC;
	int64		big;
	int			small;
	const char *u1,
			   *u2;

	if (us == 0)
		return pstrdup("0s");
	if (us < USECS_PER_SEC)
		return psprintf("%dms", (int) Max(us / 1000, 1));
	if (s < 60)
		return psprintf("%ds", (int) s);
	if (s < 3600)
		big = s / 60, small = (int) (s % 60), u1 = "m", u2 = "s";
	else if (s < 86400)
		big = s / 3600, small = (int) (s % 3600 / 60), u1 = "h", u2 = "m";
	else
		big = s / 86400, small = (int) (s % 86400 / 3600), u1 = "d", u2 = "h";
	if (small == 0)
		return psprintf(INT64_FORMAT "%s", big, u1);
	return psprintf(INT64_FORMAT "%s %d%s", big, u1, small, u2);
}

#define SVG_W		900
#define SVG_NAME_X	210
#define SVG_BAR_X	220
#define SVG_BAR_W	400
#define SVG_TOP		60
#define SVG_ROW		64
#define SVG_BAR_H	34
#define SVG_MAX_NAME 28

/*
 * funnel_svg(summary, step_names): a standalone SVG chart of the funnel with
 * counts, conversion and drop-off between steps.
 */
PG_FUNCTION_INFO_V1(funnel_svg);
Datum
funnel_svg(PG_FUNCTION_ARGS)
{
	FunnelSummary *s;
	char	  **names;
	int64		top;
	int			height;
	StringInfoData buf;
	int			k;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	s = PG_GETARG_FUNNEL_SUMMARY_P(0);
	names = step_names(fcinfo, 1, s->nsteps);
	top = s->nsteps > 0 ? s->steps[0].entities : 0;
	height = SVG_TOP + s->nsteps * SVG_ROW + 10;
	initStringInfo(&buf);
	appendStringInfo(&buf,
					 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
					 "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
					 "viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n",
					 SVG_W, height, SVG_W, height);
	appendStringInfo(&buf, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
					 SVG_W, height);
	appendStringInfo(&buf,
					 "<text x=\"20\" y=\"32\" font-size=\"18\" font-weight=\"bold\" fill=\"#222222\">"
					 "Funnel: " INT64_FORMAT " entities, %d steps, window %s (times: median from step 1)</text>\n",
					 top, s->nsteps, duration_text(s->window));
	for (k = 0; k < s->nsteps; k++)
	{
		int64		c = s->steps[k].entities;
		int			y = SVG_TOP + k * SVG_ROW;
		double		frac = top > 0 ? (double) c / (double) top : 0.0;
		double		w = frac * SVG_BAR_W;
		char	   *name = names[k];
		double		r = 0.0;
		int64		us;

		if (c > 0 && w < 2.0)
			w = 2.0;			/* anyone there: a visible sliver */
		/* long names are cut (on a character boundary) */
		if (pg_mbstrlen(name) > SVG_MAX_NAME)
		{
			int			bytes = pg_mbcharcliplen(name, strlen(name), SVG_MAX_NAME - 1);

			name = psprintf("%.*s\xe2\x80\xa6", bytes, name);
			if (GetDatabaseEncoding() != PG_UTF8)
				name = psprintf("%.*s...", bytes, names[k]);
		}
		appendStringInfo(&buf, "<g class=\"step\" id=\"step%d\">\n", k + 1);
		appendStringInfo(&buf,
						 "<text x=\"%d\" y=\"%d\" font-size=\"14\" text-anchor=\"end\" fill=\"#222222\">",
						 SVG_NAME_X, y + 22);
		funnel_svg_append_text(&buf, name);
		appendStringInfoString(&buf, "</text>\n");
		appendStringInfo(&buf,
						 "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"#eef1f5\"/>\n",
						 SVG_BAR_X, y, SVG_BAR_W, SVG_BAR_H);
		appendStringInfo(&buf,
						 "<rect x=\"%d\" y=\"%d\" width=\"%.1f\" height=\"%d\" fill=\"#4e79a7\"/>\n",
						 SVG_BAR_X, y, w, SVG_BAR_H);
		appendStringInfo(&buf,
						 "<text x=\"%d\" y=\"%d\" font-size=\"14\" fill=\"#222222\">" INT64_FORMAT,
						 SVG_BAR_X + SVG_BAR_W + 10, y + 22, c);
		if (conv_start(s, k, &r))
			appendStringInfo(&buf, " (%.1f%%)", r * 100.0);
		if (k > 0 && funnel_summary_quantile(s, k + 1, 0.5, &us))
			appendStringInfo(&buf, "<tspan font-size=\"12\" fill=\"#666666\"> median %s</tspan>",
							 duration_text(us));
		appendStringInfoString(&buf, "</text>\n");
		if (k + 1 < s->nsteps)
		{
			int64		next = s->steps[k + 1].entities;

			appendStringInfo(&buf,
							 "<text x=\"%d\" y=\"%d\" font-size=\"12\" fill=\"#666666\">&#8595; ",
							 SVG_BAR_X + 6, y + SVG_BAR_H + 20);
			if (c > 0)
				appendStringInfo(&buf, "%.1f%% continued, " INT64_FORMAT " dropped off (%.1f%%)",
								 100.0 * next / c, c - next, 100.0 * (c - next) / c);
			else
				appendStringInfoString(&buf, "no entities");
			appendStringInfoString(&buf, "</text>\n");
		}
		appendStringInfoString(&buf, "</g>\n");
	}
	appendStringInfoString(&buf, "</svg>\n");
	PG_RETURN_TEXT_P(cstring_to_text_with_len(buf.data, buf.len));
}
