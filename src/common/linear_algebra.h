/*
 * src/common/linear_algebra.h
 *    Dense linear algebra (common/linear_algebra.c): LU factorisation with
 *    partial pivoting of an n x n row-major matrix, and solving with it.
 */
#ifndef FUNNEL_LINEAR_ALGEBRA_H
#define FUNNEL_LINEAR_ALGEBRA_H

#include "postgres.h"

extern void funnel_lu_factor(double *a, int n, int *piv);
extern void funnel_lu_solve(const double *a, int n, const int *piv, double *b);

#endif							/* FUNNEL_LINEAR_ALGEBRA_H */
