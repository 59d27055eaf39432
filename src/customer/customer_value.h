/*
 * src/customer/customer_value.h
 *    Declarations shared by the customer-value files: the buy-till-you-die
 *    models (BG/NBD, Gamma-Gamma, shifted-beta-geometric), their maximum
 *    likelihood fits and predictions (customer/models.c), used by the SQL
 *    functions and aggregates of customer_value.c and customer/cohort.c.
 */
#ifndef CUSTOMER_VALUE_H
#define CUSTOMER_VALUE_H

#include "postgres.h"

#include "common/money.h"
#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/numeric.h"

/* One customer's summary: repeat purchases, recency and age (same unit). */
typedef struct BgnbdObs
{
	double		x;
	double		tx;
	double		T;
} BgnbdObs;

typedef struct BgnbdParams
{
	double		r;
	double		alpha;
	double		a;
	double		b;
	double		ll;				/* log-likelihood at the optimum */
	int64		n;				/* customers */
} BgnbdParams;

/* One repeat customer: repeat purchases and their mean value. */
typedef struct GammaGammaObs
{
	double		x;
	double		m;
} GammaGammaObs;

typedef struct GammaGammaParams
{
	double		p;
	double		q;
	double		gamma;
	double		ll;
	int64		n;
} GammaGammaParams;

typedef struct SbgParams
{
	double		alpha;
	double		beta;
	double		ll;
	int32		periods;
	int64		cohort;
} SbgParams;

/*
 * Fits: when the fit is impossible, report the reason at elevel (ERROR, or
 * NOTICE and return false).
 */
extern bool bgnbd_fit_obs(const BgnbdObs *obs, int64 n, BgnbdParams *out,
						  int elevel);
extern bool gamma_gamma_fit_obs(const GammaGammaObs *obs, int64 n,
								GammaGammaParams *out, int elevel);
extern bool bgnbd_fit_weighted(const BgnbdObs *obs, const int64 *w, int64 nobs,
							   BgnbdParams *out, int elevel);
extern bool gamma_gamma_fit_weighted(const GammaGammaObs *obs, const int64 *w, int64 nobs,
									 GammaGammaParams *out, int elevel);
extern void sbg_fit_survivors(const int64 *surv, int n, SbgParams *out);
extern double sbg_loglik(const int64 *surv, int n, double alpha, double beta);

/* Predictions. */
extern double bgnbd_expected(const BgnbdParams *m, double t, double x,
							 double tx, double T);
extern double bgnbd_palive(const BgnbdParams *m, double x, double tx, double T);
extern double gamma_gamma_mean(const GammaGammaParams *g, double x, double mx);
extern double customer_ltv(const BgnbdParams *m, const GammaGammaParams *g,
						   double x, double tx, double T, double mx,
						   double months, double discount, double units_per_month);
extern double sbg_survival(double alpha, double beta, int64 t);
extern double sbg_remaining(double alpha, double beta, int64 n, double discount);

/* Checks of model parameters read from SQL values. */
extern void bgnbd_check_params(const BgnbdParams *m);
extern void gamma_gamma_check_params(const GammaGammaParams *g);
extern void bgnbd_check_obs(double x, double tx, double T);
extern void gg_check_row(double x, double m);
extern Datum customer_model_tuple(FunctionCallInfo fcinfo, Datum *values, bool *nulls);

/* customer_value.c: helpers shared with customer/cohort.c */
extern int32 cv_local_day(TimestampTz ts);
extern double cv_interval_days(const Interval *iv, const char *what);
/* a purchase amount in billionths, summed exactly (common/money.h) */
#define CV_AMOUNT_MAX_DIGITS	20
extern int128 cv_amount(Numeric n);
extern void cv_check_ltv_args(double months, double discount,
							  double units_per_month);

#endif							/* CUSTOMER_VALUE_H */
