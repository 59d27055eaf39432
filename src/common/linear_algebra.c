/*
 * src/common/linear_algebra.c
 *    Dense linear algebra for the Markov models (attribution and pipeline):
 *    LU factorisation with partial pivoting, and solving with it.
 */
#include "postgres.h"

#include <math.h>

#include "common/linear_algebra.h"
#include "miscadmin.h"

/* LU factorisation with partial pivoting of the n x n matrix a (in place). */
void
funnel_lu_factor(double *a, int n, int *piv)
{
	int			i,
				j,
				k;

	for (k = 0; k < n; k++)
	{
		int			p = k;
		double		best = fabs(a[(Size) k * n + k]);

		CHECK_FOR_INTERRUPTS();
		for (i = k + 1; i < n; i++)
			if (fabs(a[(Size) i * n + k]) > best)
			{
				best = fabs(a[(Size) i * n + k]);
				p = i;
			}
		piv[k] = p;
		/* every transient state reaches an absorbing one: I - Q is regular */
		if (best < 1e-300)
			elog(ERROR, "transition matrix is singular");
		if (p != k)
			for (j = 0; j < n; j++)
			{
				double		tmp = a[(Size) k * n + j];

				a[(Size) k * n + j] = a[(Size) p * n + j];
				a[(Size) p * n + j] = tmp;
			}
		for (i = k + 1; i < n; i++)
		{
			double		f = a[(Size) i * n + k] / a[(Size) k * n + k];

			a[(Size) i * n + k] = f;
			if (f != 0)
				for (j = k + 1; j < n; j++)
					a[(Size) i * n + j] -= f * a[(Size) k * n + j];
		}
	}
}

/* Solve a x = b in place of b, with a and piv from funnel_lu_factor. */
void
funnel_lu_solve(const double *a, int n, const int *piv, double *b)
{
	int			i,
				j;

	for (i = 0; i < n; i++)
		if (piv[i] != i)
		{
			double		tmp = b[i];

			b[i] = b[piv[i]];
			b[piv[i]] = tmp;
		}
	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			b[i] -= a[(Size) i * n + j] * b[j];
	for (i = n - 1; i >= 0; i--)
	{
		for (j = i + 1; j < n; j++)
			b[i] -= a[(Size) i * n + j] * b[j];
		b[i] /= a[(Size) i * n + i];
	}
}

