/*
 * src/customer/models.c
 *    The buy-till-you-die models behind the customer-value functions, as
 *    plain numeric code over C arrays:
 *
 *    - BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy
 *      way"): purchases while alive are Poisson with a gamma(r, alpha)
 *      distributed rate; after each purchase the customer drops out with a
 *      beta(a, b) distributed probability.
 *    - Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"):
 *      the value of a transaction is gamma(p, nu) with nu gamma(q, gamma).
 *    - shifted-beta-geometric churn model (Fader & Hardie 2007, "How to
 *      project customer retention"): a contract is cancelled at the end of
 *      each period with a beta(alpha, beta) distributed probability.
 *
 *    Fits maximise the log-likelihood with Nelder-Mead on the logarithm of
 *    the parameters (so they stay positive), restarted from its own result
 *    until a restart no longer improves it, and from two starting points;
 *    a fit that does not settle, or whose parameters run off to 0 or
 *    infinity, is an error.
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "customer/customer_value.h"
#include "miscadmin.h"
#include "utils/float.h"

/* ---------------------------------------------------------------------
 * Nelder-Mead minimiser
 * ---------------------------------------------------------------------
 */
#define NM_MAXDIM 4

typedef double (*nm_objective) (const double *theta, void *ctx);

static double
nm_eval(nm_objective f, void *ctx, const double *x)
{
	double		v = f(x, ctx);

	return isfinite(v) ? v : HUGE_VAL;
}

/*
 * One Nelder-Mead run from x (replaced by the best vertex found).  Returns
 * true when the simplex collapsed (values and vertices agree to the
 * tolerances) before maxiter iterations.
 */
static bool
nm_run(nm_objective f, void *ctx, int n, double *x, double *fx, double step,
	   int maxiter)
{
	double		s[NM_MAXDIM + 1][NM_MAXDIM];
	double		fs[NM_MAXDIM + 1];
	double		c[NM_MAXDIM],
				xr[NM_MAXDIM],
				xe[NM_MAXDIM],
				xc[NM_MAXDIM];
	int			i,
				j,
				iter;
	bool		done = false;

	for (i = 0; i <= n; i++)
	{
		for (j = 0; j < n; j++)
			s[i][j] = x[j] + ((i == j + 1) ? step : 0.0);
		fs[i] = nm_eval(f, ctx, s[i]);
	}

	for (iter = 0; iter < maxiter; iter++)
	{
		int			hi = 0,
					lo = 0,
					nh = 0;
		double		fr,
					size = 0.0;

		CHECK_FOR_INTERRUPTS();
		for (i = 1; i <= n; i++)
		{
			if (fs[i] < fs[lo])
				lo = i;
			if (fs[i] > fs[hi])
				hi = i;
		}
		nh = (hi == 0) ? 1 : 0;
		for (i = 0; i <= n; i++)
			if (i != hi && fs[i] > fs[nh])
				nh = i;
		for (i = 0; i <= n; i++)
			for (j = 0; j < n; j++)
				size = Max(size, fabs(s[i][j] - s[lo][j]));
		if (isfinite(fs[hi]) &&
			fs[hi] - fs[lo] <= 1e-11 * (fabs(fs[lo]) + 1e-10) &&
			size <= 1e-6)
		{
			done = true;
			break;
		}

		for (j = 0; j < n; j++)
		{
			c[j] = 0.0;
			for (i = 0; i <= n; i++)
				if (i != hi)
					c[j] += s[i][j];
			c[j] /= n;
		}
		for (j = 0; j < n; j++)
			xr[j] = c[j] + (c[j] - s[hi][j]);
		fr = nm_eval(f, ctx, xr);
		if (fr < fs[lo])
		{
			double		fe;

			for (j = 0; j < n; j++)
				xe[j] = c[j] + 2.0 * (c[j] - s[hi][j]);
			fe = nm_eval(f, ctx, xe);
			if (fe < fr)
			{
				memcpy(s[hi], xe, sizeof(double) * n);
				fs[hi] = fe;
			}
			else
			{
				memcpy(s[hi], xr, sizeof(double) * n);
				fs[hi] = fr;
			}
		}
		else if (fr < fs[nh])
		{
			memcpy(s[hi], xr, sizeof(double) * n);
			fs[hi] = fr;
		}
		else
		{
			double		fc;
			bool		outside = fr < fs[hi];

			for (j = 0; j < n; j++)
				xc[j] = outside ? c[j] + 0.5 * (xr[j] - c[j])
					: c[j] + 0.5 * (s[hi][j] - c[j]);
			fc = nm_eval(f, ctx, xc);
			if (fc < (outside ? fr : fs[hi]))
			{
				memcpy(s[hi], xc, sizeof(double) * n);
				fs[hi] = fc;
			}
			else
			{
				/* shrink towards the best vertex */
				for (i = 0; i <= n; i++)
				{
					if (i == lo)
						continue;
					for (j = 0; j < n; j++)
						s[i][j] = s[lo][j] + 0.5 * (s[i][j] - s[lo][j]);
					fs[i] = nm_eval(f, ctx, s[i]);
				}
			}
		}
	}

	{
		int			lo = 0;

		for (i = 1; i <= n; i++)
			if (fs[i] < fs[lo])
				lo = i;
		memcpy(x, s[lo], sizeof(double) * n);
		*fx = fs[lo];
	}
	return done;
}

/*
 * Minimise f from x: Nelder-Mead restarted from its own optimum (a fresh
 * simplex) until a restart moves neither the value nor the point.  Returns
 * true on convergence; x and *fx hold the best point either way.
 */
static bool
nm_minimise(nm_objective f, void *ctx, int n, double *x, double *fx)
{
	double		prev[NM_MAXDIM];
	double		fprev = HUGE_VAL;
	int			restart;

	*fx = HUGE_VAL;
	for (restart = 0; restart < 30; restart++)
	{
		bool		collapsed;
		double		moved = 0.0;
		int			j;

		memcpy(prev, x, sizeof(double) * n);
		collapsed = nm_run(f, ctx, n, x, fx, restart == 0 ? 0.7 : 0.05, 4000);
		if (!isfinite(*fx))
			return false;		/* no finite likelihood anywhere near */
		for (j = 0; j < n; j++)
			moved = Max(moved, fabs(x[j] - prev[j]));
		if (collapsed && restart > 0 && isfinite(*fx) &&
			fprev - *fx <= 1e-10 * (fabs(*fx) + 1e-10) && moved <= 1e-5)
			return true;
		fprev = *fx;
	}
	return false;
}

/*
 * Curvature check at a minimum: the eigenvalues of the Hessian of f in the
 * log-parameters (central differences; Jacobi rotations).  A maximum of the
 * likelihood that is really a ridge running off to infinity has a flat
 * direction: its smallest eigenvalue is tiny next to the largest.  Returns
 * min/max eigenvalue (<= 0 when not a proper minimum).
 */
static double
nm_curvature(nm_objective f, void *ctx, int n, const double *x, double fx)
{
	double		H[NM_MAXDIM][NM_MAXDIM];
	double		y[NM_MAXDIM];
	const double h = 1e-3;
	double		lo,
				hi;
	int			i,
				j,
				sweep;

	memcpy(y, x, sizeof(double) * n);
	for (i = 0; i < n; i++)
	{
		double		fp,
					fm;

		y[i] = x[i] + h;
		fp = nm_eval(f, ctx, y);
		y[i] = x[i] - h;
		fm = nm_eval(f, ctx, y);
		y[i] = x[i];
		H[i][i] = (fp - 2.0 * fx + fm) / (h * h);
		for (j = 0; j < i; j++)
		{
			double		fpp,
						fpm,
						fmp,
						fmm;

			y[i] = x[i] + h;
			y[j] = x[j] + h;
			fpp = nm_eval(f, ctx, y);
			y[j] = x[j] - h;
			fpm = nm_eval(f, ctx, y);
			y[i] = x[i] - h;
			fmm = nm_eval(f, ctx, y);
			y[j] = x[j] + h;
			fmp = nm_eval(f, ctx, y);
			y[i] = x[i];
			y[j] = x[j];
			H[i][j] = H[j][i] = (fpp - fpm - fmp + fmm) / (4.0 * h * h);
		}
	}
	for (i = 0; i < n; i++)
		for (j = 0; j < n; j++)
			if (!isfinite(H[i][j]))
				return 0.0;

	/* cyclic Jacobi: zero the off-diagonal entries */
	for (sweep = 0; sweep < 50; sweep++)
	{
		double		off = 0.0;
		int			p,
					q,
					k;

		for (p = 0; p < n; p++)
			for (q = p + 1; q < n; q++)
				off += H[p][q] * H[p][q];
		if (off < 1e-30)
			break;
		for (p = 0; p < n; p++)
			for (q = p + 1; q < n; q++)
			{
				double		theta,
							t,
							c,
							sn;

				if (H[p][q] == 0.0)
					continue;
				theta = (H[q][q] - H[p][p]) / (2.0 * H[p][q]);
				t = (theta >= 0 ? 1.0 : -1.0) / (fabs(theta) + sqrt(theta * theta + 1.0));
				c = 1.0 / sqrt(t * t + 1.0);
				sn = t * c;
				for (k = 0; k < n; k++)
				{
					double		hkp = H[k][p],
								hkq = H[k][q];

					H[k][p] = c * hkp - sn * hkq;
					H[k][q] = sn * hkp + c * hkq;
				}
				for (k = 0; k < n; k++)
				{
					double		hpk = H[p][k],
								hqk = H[q][k];

					H[p][k] = c * hpk - sn * hqk;
					H[q][k] = sn * hpk + c * hqk;
				}
			}
	}
	lo = hi = H[0][0];
	for (i = 1; i < n; i++)
	{
		lo = Min(lo, H[i][i]);
		hi = Max(hi, H[i][i]);
	}
	if (!(hi > 0))
		return 0.0;
	return lo / hi;
}

/*
 * Polish a Nelder-Mead optimum with Newton steps on central-difference
 * derivatives: from that close, each step gains digits, so the result is
 * the optimum to near machine precision whatever path the simplex took
 * (and so independent of the input order).  A step is kept only when it
 * lowers f.
 */
static void
newton_polish(nm_objective f, void *ctx, int n, double *x, double *fx)
{
	int			iter;

	for (iter = 0; iter < 4; iter++)
	{
		double		H[NM_MAXDIM][NM_MAXDIM + 1];	/* with the gradient column */
		double		y[NM_MAXDIM],
					step[NM_MAXDIM];
		const double h = 1e-4;
		double		fy;
		int			i,
					j,
					k;

		memcpy(y, x, sizeof(double) * n);
		for (i = 0; i < n; i++)
		{
			double		fp,
						fm;

			y[i] = x[i] + h;
			fp = nm_eval(f, ctx, y);
			y[i] = x[i] - h;
			fm = nm_eval(f, ctx, y);
			y[i] = x[i];
			H[i][n] = -(fp - fm) / (2.0 * h);
			H[i][i] = (fp - 2.0 * *fx + fm) / (h * h);
			for (j = 0; j < i; j++)
			{
				double		fpp,
							fpm,
							fmp,
							fmm;

				y[i] = x[i] + h;
				y[j] = x[j] + h;
				fpp = nm_eval(f, ctx, y);
				y[j] = x[j] - h;
				fpm = nm_eval(f, ctx, y);
				y[i] = x[i] - h;
				fmm = nm_eval(f, ctx, y);
				y[j] = x[j] + h;
				fmp = nm_eval(f, ctx, y);
				y[i] = x[i];
				y[j] = x[j];
				H[i][j] = H[j][i] = (fpp - fpm - fmp + fmm) / (4.0 * h * h);
			}
		}
		/* solve H step = -g by Gaussian elimination with partial pivoting */
		for (k = 0; k < n; k++)
		{
			int			piv = k;

			for (i = k + 1; i < n; i++)
				if (fabs(H[i][k]) > fabs(H[piv][k]))
					piv = i;
			if (!(fabs(H[piv][k]) > 0) || !isfinite(H[piv][k]))
				return;
			if (piv != k)
				for (j = 0; j <= n; j++)
				{
					double		t = H[k][j];

					H[k][j] = H[piv][j];
					H[piv][j] = t;
				}
			for (i = k + 1; i < n; i++)
			{
				double		m = H[i][k] / H[k][k];

				for (j = k; j <= n; j++)
					H[i][j] -= m * H[k][j];
			}
		}
		for (i = n - 1; i >= 0; i--)
		{
			double		v = H[i][n];

			for (j = i + 1; j < n; j++)
				v -= H[i][j] * step[j];
			step[i] = v / H[i][i];
		}
		for (i = 0; i < n; i++)
		{
			if (!isfinite(step[i]) || fabs(step[i]) > 0.1)
				return;			/* not in the quadratic neighbourhood */
			y[i] = x[i] + step[i];
		}
		fy = nm_eval(f, ctx, y);
		if (!(fy <= *fx))
			return;
		memcpy(x, y, sizeof(double) * n);
		*fx = fy;
		for (i = 0; i < n; i++)
			if (fabs(step[i]) > 1e-10)
				break;
		if (i == n)
			return;				/* converged */
	}
}

/*
 * Is the converged point th a proper maximum of the likelihood?  Each
 * log-parameter must lie in [lo, hi] (shape parameters between 1e-4 and
 * 1e4, scale parameters within 1e6 of the data's own scale: beyond, the
 * parameter is running off to 0 or infinity), and the likelihood must
 * curve in every direction (no flat ridge to infinity).
 */
#define SHAPE_MIN	(-9.2103403719761836)	/* log(1e-4) */
#define SHAPE_MAX	9.2103403719761836	/* log(1e4) */
#define SCALE_SPAN	13.815510557964274	/* log(1e6) */

static bool
fit_is_proper(nm_objective f, void *ctx, int n, const double *th, double fx,
			  const double *lo, const double *hi)
{
	int			j;

	for (j = 0; j < n; j++)
		if (!isfinite(th[j]) || th[j] < lo[j] || th[j] > hi[j])
			return false;
	return nm_curvature(f, ctx, n, th, fx) >= 1e-6;
}

/*
 * One start of a multi-start fit: minimise from th, and keep the optimum in
 * best and *fbest when it converged, beats the best so far and is proper.
 */
static bool
fit_try_start(nm_objective f, void *ctx, int n, double *th, const double *lo,
			  const double *hi, double *best, double *fbest)
{
	double		fx;

	if (!nm_minimise(f, ctx, n, th, &fx) || !(fx < *fbest) ||
		!fit_is_proper(f, ctx, n, th, fx, lo, hi))
		return false;
	*fbest = fx;
	memcpy(best, th, sizeof(double) * n);
	return true;
}

/*
 * A fit that cannot be made: an ERROR, or with elevel NOTICE a notice and
 * a false return (the caller answers NULL).
 */
#define FIT_FAIL(elevel, ...) \
	do { \
		ereport(elevel, __VA_ARGS__); \
		return false; \
	} while (0)

/* ---------------------------------------------------------------------
 * Sorting helpers: distinct values of a double column
 * ---------------------------------------------------------------------
 */
static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

/* Sorted distinct values of v[0..n-1] into *out; returns their count. */
static int
distinct_values(const double *v, int64 n, double **out)
{
	double	   *d = palloc(sizeof(double) * Max(n, 1));
	int64		i,
				k = 0;

	memcpy(d, v, sizeof(double) * n);
	qsort(d, n, sizeof(double), cmp_double);
	for (i = 0; i < n; i++)
		if (k == 0 || d[i] != d[k - 1])
			d[k++] = d[i];
	*out = d;
	return (int) k;
}

static int
find_value(const double *d, int n, double v)
{
	int			lo = 0,
				hi = n - 1;

	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (d[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* ---------------------------------------------------------------------
 * BG/NBD
 * ---------------------------------------------------------------------
 */

/* Customers grouped by their distinct x, T and t_x values. */
typedef struct BgnbdData
{
	int			nx,
				nT,
				ntx;
	double	   *ux,
			   *uT,
			   *utx;
	double	   *wx;				/* customers per distinct x */
	int64		n;				/* distinct customers (x, T, t_x) */
	double	   *w;				/* customers of each */
	int		   *ix,
			   *iT,
			   *itx;
	/* scratch, per evaluation */
	double	   *cx,
			   *dx,
			   *lT,
			   *ltx;
} BgnbdData;

static int
cmp_bgnbd_obs(const void *a, const void *b)
{
	const BgnbdObs *x = (const BgnbdObs *) a;
	const BgnbdObs *y = (const BgnbdObs *) b;

	if (x->x != y->x)
		return (x->x > y->x) - (x->x < y->x);
	if (x->T != y->T)
		return (x->T > y->T) - (x->T < y->T);
	return (x->tx > y->tx) - (x->tx < y->tx);
}

/* An observation and the customers who have it. */
typedef struct BgnbdWeighted
{
	BgnbdObs	o;
	int64		w;
} BgnbdWeighted;

static int
cmp_bgnbd_weighted(const void *a, const void *b)
{
	return cmp_bgnbd_obs(&((const BgnbdWeighted *) a)->o, &((const BgnbdWeighted *) b)->o);
}

/*
 * Observations obs[0..n-1], w[i] customers each (w NULL: one each), grouped
 * into distinct (x, T, t_x) in sorted order with their customers as
 * weights: the same data, and the same sums, whichever way the customers
 * were grouped before (one row each, or counted on several nodes).
 */
static void
bgnbd_prepare(const BgnbdObs *obs, const int64 *w, int64 n, BgnbdData *d)
{
	BgnbdWeighted *u = palloc_extended(sizeof(BgnbdWeighted) * Max(n, 1), MCXT_ALLOC_HUGE);
	double	   *col;
	int64		i,
				k = 0;

	/* identical customers are counted once, with a weight */
	for (i = 0; i < n; i++)
	{
		u[i].o = obs[i];
		u[i].w = w ? w[i] : 1;
	}
	qsort(u, n, sizeof(BgnbdWeighted), cmp_bgnbd_weighted);
	d->w = palloc_extended(sizeof(double) * Max(n, 1), MCXT_ALLOC_HUGE);
	for (i = 0; i < n; i++)
	{
		if (k > 0 && cmp_bgnbd_obs(&u[k - 1].o, &u[i].o) == 0)
			u[k - 1].w += u[i].w;
		else
			u[k++] = u[i];
	}
	for (i = 0; i < k; i++)
		d->w[i] = (double) u[i].w;	/* exact below 2^53 customers */
	d->n = k;
	col = palloc(sizeof(double) * Max(k, 1));
	for (i = 0; i < k; i++)
		col[i] = u[i].o.x;
	d->nx = distinct_values(col, k, &d->ux);
	for (i = 0; i < k; i++)
		col[i] = u[i].o.T;
	d->nT = distinct_values(col, k, &d->uT);
	for (i = 0; i < k; i++)
		col[i] = u[i].o.tx;
	d->ntx = distinct_values(col, k, &d->utx);
	pfree(col);
	d->ix = palloc(sizeof(int) * Max(k, 1));
	d->iT = palloc(sizeof(int) * Max(k, 1));
	d->itx = palloc(sizeof(int) * Max(k, 1));
	d->wx = palloc0(sizeof(double) * d->nx);
	for (i = 0; i < k; i++)
	{
		d->ix[i] = find_value(d->ux, d->nx, u[i].o.x);
		d->iT[i] = find_value(d->uT, d->nT, u[i].o.T);
		d->itx[i] = find_value(d->utx, d->ntx, u[i].o.tx);
		d->wx[d->ix[i]] += d->w[i];
	}
	pfree(u);
	d->cx = palloc(sizeof(double) * d->nx);
	d->dx = palloc(sizeof(double) * d->nx);
	d->lT = palloc(sizeof(double) * d->nT);
	d->ltx = palloc(sizeof(double) * d->ntx);
}

static double
bgnbd_ll_prepared(BgnbdData *d, double r, double alpha, double a, double b)
{
	double		total = 0.0;
	double		lgr = lgamma(r),
				lgb = lgamma(b),
				lgab = lgamma(a + b),
				rla = r * log(alpha),
				la = log(a);
	int			j;
	int64		i;

	for (j = 0; j < d->nx; j++)
	{
		double		x = d->ux[j];

		/* everything that depends on x only, times its customers */
		d->cx[j] = lgamma(r + x) - lgr + rla
			+ lgab + lgamma(b + x) - lgb - lgamma(a + b + x);
		d->dx[j] = (x > 0) ? la - log(b + x - 1.0) : 0.0;
		total += d->wx[j] * d->cx[j];
	}
	for (j = 0; j < d->nT; j++)
		d->lT[j] = log(alpha + d->uT[j]);
	for (j = 0; j < d->ntx; j++)
		d->ltx[j] = log(alpha + d->utx[j]);
	for (i = 0; i < d->n; i++)
	{
		int			k = d->ix[i];
		double		x = d->ux[k];
		double		a3 = -(r + x) * d->lT[d->iT[i]];

		if (x > 0)
		{
			double		a4 = d->dx[k] - (r + x) * d->ltx[d->itx[i]];
			double		hi = Max(a3, a4);

			total += d->w[i] * (hi + log1p(exp(-fabs(a3 - a4))));
		}
		else
			total += d->w[i] * a3;
	}
	return total;
}

static double
bgnbd_objective(const double *theta, void *ctx)
{
	return -bgnbd_ll_prepared((BgnbdData *) ctx, exp(theta[0]), exp(theta[1]),
							  exp(theta[2]), exp(theta[3]));
}

void
bgnbd_check_obs(double x, double tx, double T)
{
	if (!isfinite(x) || !isfinite(tx) || !isfinite(T))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("customer summary values must be finite: frequency %g, recency %g, t %g",
						x, tx, T)));
	if (x < 0 || x != floor(x) || x > 1e9)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("frequency must be a whole number of repeat purchases between 0 and 1e9, not %g", x)));
	if (tx < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recency must not be negative, not %g", tx)));
	if (tx > T)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("recency (%g) must not exceed t, the customer's age (%g)", tx, T),
				 errhint("Recency is the time from the first to the last purchase, t the time from the first purchase to the end of observation.")));
}

/*
 * The maximum-likelihood BG/NBD model of obs[0..nobs-1], w[i] customers
 * each (w NULL: one each).  The data are grouped into distinct observations
 * first, so the fit is the same, to the last bit, whichever way the
 * customers come grouped.
 */
bool
bgnbd_fit_weighted(const BgnbdObs *obs, const int64 *w, int64 nobs, BgnbdParams *out,
				   int elevel)
{
	BgnbdData	d;
	double		sumx = 0.0,
				sumT = 0.0;
	int64		i,
				n = 0,
				repeaters = 0;
	double		best[4] = {0},
				fbest = HUGE_VAL;
	bool		ok = false;
	int			s;

	for (i = 0; i < nobs; i++)
	{
		int64		wi = w ? w[i] : 1;

		n += wi;
		sumx += wi * obs[i].x;
		sumT += wi * obs[i].T;
		if (obs[i].x > 0)
			repeaters += wi;
	}
	if (n < 2)
		FIT_FAIL(elevel,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("BG/NBD fit needs at least 2 customers, got " INT64_FORMAT, n)));
	if (repeaters == 0)
		FIT_FAIL(elevel,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("BG/NBD fit impossible: none of the " INT64_FORMAT " customers made a repeat purchase", n),
				 errhint("The model needs customers with frequency > 0 to estimate the purchase rate.")));
	if (repeaters == n)
		FIT_FAIL(elevel,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("BG/NBD fit impossible: all " INT64_FORMAT " customers made repeat purchases", n),
				 errhint("The dropout process cannot be estimated without customers who never came back.")));
	if (sumT <= 0)
		FIT_FAIL(elevel,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("BG/NBD fit impossible: every customer has t = 0"),
				 errhint("t is the time from the first purchase to the end of observation; it must be positive for some customers.")));

	bgnbd_prepare(obs, w, nobs, &d);

	/* the sums again, in the sorted order: the fit must not depend on it */
	sumx = sumT = 0.0;
	for (i = 0; i < d.n; i++)
	{
		sumx += d.w[i] * d.ux[d.ix[i]];
		sumT += d.w[i] * d.uT[d.iT[i]];
	}

	/*
	 * Two starting points: unit shapes with the scale set by the mean
	 * purchase rate, and a heterogeneous start (small r, a).
	 */
	for (s = 0; s < 2; s++)
	{
		double		th[4];
		double		scale = (sumT / n) / Max(sumx / n, 1e-3);
		double		lo[4] = {SHAPE_MIN, log(sumT / n) - SCALE_SPAN, SHAPE_MIN, SHAPE_MIN};
		double		hi[4] = {SHAPE_MAX, log(sumT / n) + SCALE_SPAN, SHAPE_MAX, SHAPE_MAX};

		th[0] = log(s == 0 ? 1.0 : 0.3);
		th[1] = log(s == 0 ? scale : 0.3 * scale);
		th[2] = log(s == 0 ? 1.0 : 0.5);
		th[3] = log(s == 0 ? 1.0 : 3.0);
		if (fit_try_start(bgnbd_objective, &d, 4, th, lo, hi, best, &fbest))
			ok = true;
	}
	if (ok)
		newton_polish(bgnbd_objective, &d, 4, best, &fbest);
	if (!ok)
		FIT_FAIL(elevel,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("BG/NBD fit did not converge on " INT64_FORMAT " customers", n),
				 errdetail("The likelihood has no finite maximum for these data (a parameter runs off to 0 or infinity)."),
				 errhint("Check the summaries (frequency, recency, t in one time unit) and use more customers.")));
	out->r = exp(best[0]);
	out->alpha = exp(best[1]);
	out->a = exp(best[2]);
	out->b = exp(best[3]);
	out->ll = -fbest;
	out->n = n;
	return true;
}

bool
bgnbd_fit_obs(const BgnbdObs *obs, int64 n, BgnbdParams *out, int elevel)
{
	return bgnbd_fit_weighted(obs, NULL, n, out, elevel);
}

void
bgnbd_check_params(const BgnbdParams *m)
{
	if (!(isfinite(m->r) && m->r > 0 && isfinite(m->alpha) && m->alpha > 0 &&
		  isfinite(m->a) && m->a > 0 && isfinite(m->b) && m->b > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid BG/NBD model: r, alpha, a and b must be positive and finite (r %g, alpha %g, a %g, b %g)",
						m->r, m->alpha, m->a, m->b)));
}

/* expm1(u) / u, 1 at u = 0 */
static double
expm1_ratio(double u)
{
	if (fabs(u) < 1e-8)
		return 1.0 + 0.5 * u;
	return expm1(u) / u;
}

/*
 * Expected purchases in (T, T + t] of a customer with x repeat purchases,
 * the last at t_x, observed for T (FHL 2005, eq. 10):
 *
 *   E = (a+b+x-1)/(a-1) [1 - ((alpha+T)/(alpha+T+t))^(r+x)
 *                            2F1(r+x, b+x; a+b+x-1; z)] / D,
 *   z = t/(alpha+T+t),  D = 1 + [x>0] a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x).
 *
 * With Euler's transformation 2F1(A,B;C;z) = (1-z)^(C-A-B) 2F1(C-A,C-B;C;z)
 * the bracket is 1 - (1-z)^(a-1) F, F = 2F1(a+b-1-r, a-1; a+b+x-1; z),
 * whose parameters stay small whatever x.  Writing F = 1 + (a-1) S with
 * S = sum_{n>=1} (a+b-1-r)_n (a)_(n-1) z^n / ((a+b+x-1)_n n!), the factor
 * 1/(a-1) cancels exactly, so a = 1 needs no special case:
 *
 *   E D = (a+b+x-1) [ -L expm1((a-1) L)/((a-1) L) - (1-z)^(a-1) S ],
 *   L = log(1-z).
 */
double
bgnbd_expected(const BgnbdParams *m, double t, double x, double tx, double T)
{
	double		r = m->r,
				alpha = m->alpha,
				a = m->a,
				b = m->b;
	double		C = a + b + x - 1.0;
	double		CA = a + b - 1.0 - r;
	double		z,
				L,
				S = 0.0,
				term,
				bracket,
				denom = 1.0;
	int64		k;

	if (!isfinite(t) || t < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("prediction horizon must be a finite non-negative number of time units, not %g", t)));
	if (t == 0)
		return 0.0;
	z = t / (alpha + T + t);
	L = log1p(-z);
	if (z >= 1.0 || !isfinite(L))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("prediction horizon %g is too long for the model's time scale (alpha %g)", t, alpha)));
	term = CA * z / C;
	for (k = 1;; k++)
	{
		double		ratio;

		S += term;
		ratio = (CA + k) * (a + k - 1.0) * z / ((C + k) * (k + 1));
		term *= ratio;
		if (fabs(ratio) < 1.0 &&
			fabs(term) <= 1e-17 * fabs(S) * (1.0 - z))
			break;
		if (term == 0.0)
			break;
		if (k >= 50000000)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("hypergeometric series of the expected purchases did not converge for horizon %g", t),
					 errhint("The horizon is very long compared with the customer's age and the model's time scale.")));
		if ((k & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	bracket = -L * expm1_ratio((a - 1.0) * L) - exp((a - 1.0) * L) * S;
	if (x > 0)
		denom += exp(log(a) - log(b + x - 1.0) +
					 (r + x) * (log(alpha + T) - log(alpha + tx)));
	return C * bracket / denom;
}

/* P(alive | x, t_x, T) = 1 / D (FHL 2005 / Fader, Hardie & Lee 2008 note). */
double
bgnbd_palive(const BgnbdParams *m, double x, double tx, double T)
{
	double		lt;

	if (x <= 0)
		return 1.0;
	lt = log(m->a) - log(m->b + x - 1.0) +
		(m->r + x) * (log(m->alpha + T) - log(m->alpha + tx));
	return 1.0 / (1.0 + exp(lt));
}

/* ---------------------------------------------------------------------
 * Gamma-Gamma
 * ---------------------------------------------------------------------
 */
typedef struct GgData
{
	int64		n;				/* customers */
	int64		k;				/* distinct (x, m) */
	GammaGammaObs *obs;			/* the distinct (x, m), sorted */
	double	   *w;				/* customers of each */
	int			nx;
	double	   *ux;
	double	   *wx;
	double		sum_log_m;		/* sum log m */
	double		sum_x_log_m;	/* sum x log m */
	double		sum_x_log_x;	/* sum x log x */
} GgData;

static double
gg_ll_prepared(const GgData *d, double p, double q, double g)
{
	double		total;
	int			j;
	int64		i;

	/*
	 * sum over customers of lgamma(px+q) - lgamma(px) - lgamma(q) + q log g
	 * + (px-1) log m + px log x - (px+q) log(g + x m)
	 */
	total = d->n * (q * log(g) - lgamma(q))
		+ p * d->sum_x_log_m - d->sum_log_m + p * d->sum_x_log_x;
	for (j = 0; j < d->nx; j++)
		total += d->wx[j] * (lgamma(p * d->ux[j] + q) - lgamma(p * d->ux[j]));
	for (i = 0; i < d->k; i++)
	{
		double		x = d->obs[i].x;

		total -= d->w[i] * ((p * x + q) * log(g + x * d->obs[i].m));
	}
	return total;
}

static int
cmp_gg_obs(const void *a, const void *b)
{
	const GammaGammaObs *x = (const GammaGammaObs *) a;
	const GammaGammaObs *y = (const GammaGammaObs *) b;

	if (x->x != y->x)
		return (x->x > y->x) - (x->x < y->x);
	return (x->m > y->m) - (x->m < y->m);
}

typedef struct GgWeighted
{
	GammaGammaObs o;
	int64		w;
} GgWeighted;

static int
cmp_gg_weighted(const void *a, const void *b)
{
	return cmp_gg_obs(&((const GgWeighted *) a)->o, &((const GgWeighted *) b)->o);
}

/*
 * in[0..nin-1], w[i] customers each (w NULL: one each), grouped into
 * distinct (x, m) in sorted order with their customers as weights, and the
 * sums of the likelihood over them: the same whichever way the customers
 * come grouped.
 */
static void
gg_prepare(const GammaGammaObs *in, const int64 *w, int64 nin, GgData *d)
{
	GgWeighted *u = palloc_extended(sizeof(GgWeighted) * Max(nin, 1), MCXT_ALLOC_HUGE);
	double	   *col;
	int64		i,
				k = 0;

	memset(d, 0, sizeof(*d));
	for (i = 0; i < nin; i++)
	{
		u[i].o = in[i];
		u[i].w = w ? w[i] : 1;
	}
	qsort(u, nin, sizeof(GgWeighted), cmp_gg_weighted);
	for (i = 0; i < nin; i++)
	{
		if (k > 0 && cmp_gg_obs(&u[k - 1].o, &u[i].o) == 0)
			u[k - 1].w += u[i].w;
		else
			u[k++] = u[i];
	}
	d->k = k;
	d->obs = palloc_extended(sizeof(GammaGammaObs) * Max(k, 1), MCXT_ALLOC_HUGE);
	d->w = palloc_extended(sizeof(double) * Max(k, 1), MCXT_ALLOC_HUGE);
	col = palloc_extended(sizeof(double) * Max(k, 1), MCXT_ALLOC_HUGE);
	for (i = 0; i < k; i++)
	{
		double		x = u[i].o.x,
					m = u[i].o.m;

		d->obs[i] = u[i].o;
		d->w[i] = (double) u[i].w;	/* exact below 2^53 customers */
		d->n += u[i].w;
		col[i] = x;
		d->sum_log_m += d->w[i] * log(m);
		d->sum_x_log_m += d->w[i] * (x * log(m));
		d->sum_x_log_x += d->w[i] * (x * log(x));
	}
	d->nx = distinct_values(col, k, &d->ux);
	d->wx = palloc0(sizeof(double) * Max(d->nx, 1));
	for (i = 0; i < k; i++)
		d->wx[find_value(d->ux, d->nx, d->obs[i].x)] += d->w[i];
	pfree(col);
	pfree(u);
}

static double
gg_objective(const double *theta, void *ctx)
{
	return -gg_ll_prepared((GgData *) ctx, exp(theta[0]), exp(theta[1]),
						   exp(theta[2]));
}

/*
 * The maximum-likelihood Gamma-Gamma model of obs[0..nobs-1], w[i]
 * customers each (w NULL: one each); the data are grouped into distinct
 * (x, m) first, so the fit is the same, to the last bit, whichever way the
 * customers come grouped.
 */
bool
gamma_gamma_fit_weighted(const GammaGammaObs *obs, const int64 *w, int64 nobs,
						 GammaGammaParams *out, int elevel)
{
	GgData		d;
	double		mean = 0.0,
				best[3] = {0},
				fbest = HUGE_VAL;
	bool		ok = false,
				varied = false;
	int64		i,
				n = 0;
	int			s;

	for (i = 0; i < nobs; i++)
	{
		n += w ? w[i] : 1;
		if (obs[i].m != obs[0].m)
			varied = true;
	}
	if (n < 2)
		FIT_FAIL(elevel,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Gamma-Gamma fit needs at least 2 customers with repeat purchases, got " INT64_FORMAT, n),
				 errhint("Only customers with frequency > 0 enter the spend model.")));
	if (!varied)
		FIT_FAIL(elevel,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Gamma-Gamma fit impossible: all " INT64_FORMAT " customers have the same monetary value %g",
						n, obs[0].m),
				 errhint("The spend model needs variation in the average purchase value.")));
	gg_prepare(obs, w, nobs, &d);
	/* the mean in the sorted order: the fit must not depend on the input's */
	for (i = 0; i < d.k; i++)
		mean += d.w[i] * d.obs[i].m / n;
	for (s = 0; s < 2; s++)
	{
		double		th[3];
		double		p0 = (s == 0) ? 1.0 : 5.0,
					q0 = (s == 0) ? 2.0 : 4.0;
		double		lo[3] = {SHAPE_MIN, SHAPE_MIN, log(mean) - SCALE_SPAN};
		double		hi[3] = {SHAPE_MAX, SHAPE_MAX, log(mean) + SCALE_SPAN};

		/* start with the population mean p g / (q - 1) at the sample mean */
		th[0] = log(p0);
		th[1] = log(q0);
		th[2] = log(mean * (q0 - 1.0) / p0);

		if (fit_try_start(gg_objective, &d, 3, th, lo, hi, best, &fbest))
			ok = true;
	}
	if (ok)
		newton_polish(gg_objective, &d, 3, best, &fbest);
	if (!ok)
		FIT_FAIL(elevel,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("Gamma-Gamma fit did not converge on " INT64_FORMAT " customers", n),
				 errdetail("The likelihood has no finite maximum for these data (a parameter runs off to 0 or infinity)."),
				 errhint("Use more repeat customers; check that monetary_value is the mean value of the repeat purchases.")));
	out->p = exp(best[0]);
	out->q = exp(best[1]);
	out->gamma = exp(best[2]);
	out->ll = -fbest;
	out->n = n;
	return true;
}

bool
gamma_gamma_fit_obs(const GammaGammaObs *obs, int64 n, GammaGammaParams *out, int elevel)
{
	return gamma_gamma_fit_weighted(obs, NULL, n, out, elevel);
}

void
gamma_gamma_check_params(const GammaGammaParams *g)
{
	if (!(isfinite(g->p) && g->p > 0 && isfinite(g->q) && g->q > 0 &&
		  isfinite(g->gamma) && g->gamma > 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Gamma-Gamma model: p, q and gamma must be positive and finite (p %g, q %g, gamma %g)",
						g->p, g->q, g->gamma)));
	if (g->q <= 1.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("Gamma-Gamma model with q = %g has no finite expected spend", g->q),
				 errhint("The mean spend p gamma / (q - 1) exists only for q > 1.")));
}

/*
 * E[M | x, m_x] = (p (gamma + x m_x)) / (p x + q - 1): a weighted mean of
 * the population mean p gamma / (q - 1) and the customer's own m_x.
 */
double
gamma_gamma_mean(const GammaGammaParams *g, double x, double mx)
{
	double		w = g->p * x / (g->p * x + g->q - 1.0);

	return (1.0 - w) * (g->p * g->gamma / (g->q - 1.0)) + w * mx;
}

/*
 * Discounted expected value over `months` months (the last one partial
 * when months is fractional): month i contributes the expected purchases
 * in ((i-1) u, i u] times the expected spend, over (1 + d)^i.
 */
double
customer_ltv(const BgnbdParams *m, const GammaGammaParams *g, double x,
			 double tx, double T, double mx, double months, double discount,
			 double units_per_month)
{
	double		spend = gamma_gamma_mean(g, x, mx);
	double		total = 0.0,
				prev = 0.0;
	int			i,
				nmonths = (int) ceil(months);

	for (i = 1; i <= nmonths; i++)
	{
		double		cur = bgnbd_expected(m, Min((double) i, months) * units_per_month,
										 x, tx, T);

		total += spend * (cur - prev) / pow(1.0 + discount, i);
		prev = cur;
	}
	return total;
}

/* ---------------------------------------------------------------------
 * shifted-beta-geometric
 * ---------------------------------------------------------------------
 */

/*
 * Survivors n_0 >= n_1 >= ... >= n_k: LL = sum_t (n_{t-1} - n_t) log P(t)
 * + n_k log S(k), with S(t) = S(t-1) (beta+t-1)/(alpha+beta+t-1) and
 * P(t) = S(t-1) alpha/(alpha+beta+t-1).
 */
double
sbg_loglik(const int64 *surv, int n, double alpha, double beta)
{
	double		S = 1.0,
				ll = 0.0;
	int			t;

	for (t = 1; t < n; t++)
	{
		double		P = S * alpha / (alpha + beta + t - 1);
		double		lost = (double) (surv[t - 1] - surv[t]);

		S *= (beta + t - 1) / (alpha + beta + t - 1);
		if (lost > 0)
			ll += lost * log(P);
	}
	if (surv[n - 1] > 0)
		ll += (double) surv[n - 1] * log(S);
	return ll;
}

typedef struct SbgData
{
	const int64 *surv;
	int			n;
} SbgData;

static double
sbg_objective(const double *theta, void *ctx)
{
	SbgData    *d = (SbgData *) ctx;

	return -sbg_loglik(d->surv, d->n, exp(theta[0]), exp(theta[1]));
}

void
sbg_fit_survivors(const int64 *surv, int n, SbgParams *out)
{
	SbgData		d;
	double		best[2] = {0},
				fbest = HUGE_VAL;
	bool		ok = false;
	int			s,
				t;

	if (n < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sBG fit needs the cohort size and at least one later survivor count"),
				 errdetail_plural("%d survivor count was given.",
								  "%d survivor counts were given.", n, n)));
	if (surv[0] <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cohort size (the first survivor count) must be positive, not " INT64_FORMAT, surv[0])));
	for (t = 1; t < n; t++)
		if (surv[t] < 0 || surv[t] > surv[t - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("survivor counts must not be negative or increase"),
					 errdetail("Period %d has " INT64_FORMAT " survivors after " INT64_FORMAT ".",
							   t, surv[t], surv[t - 1])));
	if (surv[n - 1] == surv[0])
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sBG fit impossible: nobody churned in %d periods", n - 1),
				 errhint("The churn probability cannot be estimated without churners.")));
	if (n == 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("sBG fit needs at least two periods of survivors to separate alpha and beta"),
				 errhint("Pass the cohort size and the survivors at the end of periods 1, 2, ...")));
	d.surv = surv;
	d.n = n;
	for (s = 0; s < 2; s++)
	{
		double		th[2];
		double		lo[2] = {SHAPE_MIN, SHAPE_MIN};
		double		hi[2] = {SHAPE_MAX, SHAPE_MAX};

		th[0] = log(s == 0 ? 1.0 : 0.5);
		th[1] = log(s == 0 ? 1.0 : 3.0);

		if (fit_try_start(sbg_objective, &d, 2, th, lo, hi, best, &fbest))
			ok = true;
	}
	if (ok)
		newton_polish(sbg_objective, &d, 2, best, &fbest);
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("sBG fit did not converge"),
				 errdetail("The likelihood has no finite maximum for these survivor counts (for example, a constant churn rate makes alpha and beta run off to infinity)."),
				 errhint("A constant retention rate is a plain geometric model: retention = survivors(t) / survivors(t-1).")));
	out->alpha = exp(best[0]);
	out->beta = exp(best[1]);
	out->ll = -fbest;
	out->periods = n - 1;
	out->cohort = surv[0];
}

/* S(t) = B(alpha, beta + t) / B(alpha, beta) */
double
sbg_survival(double alpha, double beta, int64 t)
{
	double		S = 1.0;
	int64		j;

	if (t <= 0)
		return 1.0;
	if (t > 10000)
		return exp(lgamma(beta + t) - lgamma(beta) + lgamma(alpha + beta) -
				   lgamma(alpha + beta + t));
	for (j = 1; j <= t; j++)
		S *= (beta + j - 1) / (alpha + beta + j - 1);
	return S;
}

/*
 * Discounted expected residual lifetime of a customer who has made n
 * renewals (survived n periods), as Fader & Hardie define it ("Customer-Base
 * Valuation in a Contractual Setting: The Perils of Ignoring
 * Heterogeneity", 2010), the next period undiscounted:
 *   DERL = sum_{k>=1} S(n+k)/S(n) / (1+d)^(k-1)
 *        = (beta+n)/(alpha+beta+n) 2F1(1, beta+n+1; alpha+beta+n+1; 1/(1+d)).
 * (Before 1.1 the sum was discounted by (1+d)^k, DERL / (1+d).)
 * Undiscounted the sum is (beta+n)/(alpha-1) for alpha > 1 and infinite
 * otherwise.
 */
double
sbg_remaining(double alpha, double beta, int64 n, double discount)
{
	double		z,
				term = 1.0,
				sum = 0.0;
	int64		k;

	if (discount == 0.0)
		return (alpha > 1.0) ? (beta + n) / (alpha - 1.0) : get_float8_infinity();
	z = 1.0 / (1.0 + discount);
	for (k = 1;; k++)
	{
		/* S(n+k)/S(n) z^(k-1) from S(n+k-1)/S(n) z^(k-2) */
		term *= (beta + n + k - 1) / (alpha + beta + n + k - 1) * (k > 1 ? z : 1.0);
		sum += term;
		if (term <= 1e-17 * sum)
			break;
		if (k >= 20000000)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("discount rate %g is too small to sum the expected remaining lifetime", discount),
					 errhint("Use 0 (undiscounted) or a rate of at least 1e-6 per period.")));
		if ((k & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	return sum;
}
