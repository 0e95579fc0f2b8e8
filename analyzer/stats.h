/* SPDX-License-Identifier: MIT */
/*
 * The statistics of sprof-report check: distribution functions (Student's
 * t, normal, binomial through the regularized incomplete beta function),
 * Welch's t-test against a ratio, and Holm's step-down correction.
 *
 * Everything here is plain computation over doubles: no allocation except in
 * st_holm, no state, nothing that can fail. p-values are clamped to [0, 1].
 * Only libm is needed, so that unit tests can build it alone.
 */
#ifndef SPROF_STATS_H
#define SPROF_STATS_H

#include <stddef.h>
#include <stdint.h>

/* The regularized incomplete beta function I_x(a, b) for a, b > 0 and x in
 * [0, 1] (continued fraction, Numerical Recipes 6.4). NAN for bad
 * arguments. */
double st_betai(double a, double b, double x);

/* Student's t distribution with df > 0 degrees of freedom (df need not be
 * an integer): P(T <= t), P(T > t), and the two-sided P(|T| >= |t|). */
double st_t_cdf(double t, double df);
double st_t_sf(double t, double df);
double st_t_two_sided(double t, double df);

/* The standard normal distribution: P(Z > z). */
double st_norm_sf(double z);

/* X ~ Binomial(n, p): P(X >= k) and P(X <= k). */
double st_binom_sf(uint64_t k, uint64_t n, double p);
double st_binom_cdf(uint64_t k, uint64_t n, double p);

/* Mean and sample variance (n - 1 in the denominator; 0 when n < 2). */
void st_mean_var(const double *x, size_t n, double *mean, double *var);

/* Welch's t-test of d = mean(y) - c * mean(x) - shift, with unequal
 * variances (the Welch-Satterthwaite degrees of freedom). upper: the
 * one-sided p-value of H0: d <= 0 against d > 0; else of H0: d >= 0
 * against d < 0. Both samples need at least two values; when both sample
 * variances are 0, the p-value is 0 or 1 by the sign of d. t and df
 * receive the statistic and the degrees of freedom when not NULL. */
double st_welch(const double *y, size_t n, const double *x, size_t m, double c, double shift,
                int upper, double *t, double *df);

/* mean(y) of n runs against mean(x) of m runs when the run-to-run
 * variation is known only as a squared coefficient of variation cv2 (the
 * variance of one run over its mean squared), measured on a side of k runs:
 * t = (y - c x) / (c x sqrt(cv2 (1/n + 1/m))) with k - 1 degrees of
 * freedom. upper: H0: y <= c x against y > c x; else H0: y >= c x. 1 when
 * k < 2 or x <= 0; 0 or 1 by the sign of the difference when cv2 is 0. */
double st_t_cv(double y, size_t n, double x, size_t m, double c, double cv2, size_t k, int upper);

/* Poisson counts k_y over exposure ey against k_x over exposure ex: the
 * exact conditional (binomial) test of the rate ratio r = (k_y / ey) /
 * (k_x / ex). upper: H0: r <= c against r > c; else H0: r >= c against
 * r < c. Given k_y + k_x, k_y is binomial with p = c ey / (c ey + ex) on
 * the boundary of H0. */
double st_poisson_ratio(uint64_t ky, double ey, uint64_t kx, double ex, double c, int upper);

/* Two binomial samples (a of n1, b of n2): Woolf's test of the odds ratio
 * OR = (b / (n2 - b)) / (a / (n1 - a)) on the log scale, 0.5 added to every
 * cell (Haldane-Anscombe). upper: H0: OR <= c against OR > c; else H0:
 * OR >= c against OR < c. */
double st_odds_ratio(uint64_t a, uint64_t n1, uint64_t b, uint64_t n2, double c, int upper);

/* Holm's step-down adjustment of n p-values: adj[i] is the smallest family-
 * wise level at which p[i] is rejected. p and adj may be the same array. */
void st_holm(const double *p, size_t n, double *adj);

#endif
