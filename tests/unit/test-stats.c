/* SPDX-License-Identifier: MIT */
/*
 * The statistics of sprof-report check (analyzer/stats.c) against values
 * computed with mpmath at 30 digits: the incomplete beta function, Student's
 * t, binomial tails, Welch's test and Holm's correction.
 *
 * analyzer/stats.c needs only libm, so it is compiled into this test
 * directly (tests/run.sh links unit tests with common/ only).
 */
#include <math.h>

#include "../../analyzer/stats.c"
#include "unit.h"

#define NEAR(got, want, rel)                                                                       \
    CHECKF(fabs((got) - (want)) <= (rel)*fabs(want) + 1e-300, "got %.15g, want %.15g", (got),      \
           (want))

static void betai_values(void)
{
    NEAR(st_betai(2.5, 3.5, 0.3), 0.296752989295666, 1e-10);
    NEAR(st_betai(0.5, 0.5, 0.9), 0.795167235300867, 1e-10);
    NEAR(st_betai(200, 300, 0.45), 0.988146345620263, 1e-9);
    CHECK(st_betai(2, 3, 0) == 0);
    CHECK(st_betai(2, 3, 1) == 1);
    CHECK(isnan(st_betai(-1, 3, 0.5)));
    CHECK(isnan(st_betai(1, 3, 1.5)));
}

static void t_two_sided_values(void)
{
    /* the values the issue names */
    NEAR(st_t_two_sided(2.0, 10), 0.0733880347707404, 1e-9);
    NEAR(st_t_two_sided(3.0, 5), 0.0300992478974626, 1e-9);
    /* closed forms: df 1 is Cauchy, df 2 is 1 - t / sqrt(t^2 + 2) */
    NEAR(st_t_two_sided(1.0, 1), 0.5, 1e-12);
    NEAR(st_t_two_sided(2.0, 1), 1 - 2 * atan(2.0) / M_PI, 1e-12);
    NEAR(st_t_two_sided(3.0, 2), 1 - 3 / sqrt(11.0), 1e-12);
    /* Welch gives fractional degrees of freedom */
    NEAR(st_t_two_sided(2.5, 7.5), 0.0388202582736255, 1e-9);
    NEAR(st_t_two_sided(1.3, 3.7), 0.268666724172628, 1e-9);
    NEAR(st_t_two_sided(10, 2.2), 0.00710446371025844, 1e-9);
    NEAR(st_t_two_sided(6, 4), 0.00388253704696051, 1e-9);
    NEAR(st_t_two_sided(-0.5, 30), 0.620723004885128, 1e-9);
    /* many degrees of freedom: the normal distribution */
    NEAR(st_t_two_sided(1.959963984540054, 1e7), 0.05, 1e-5);
    CHECK(st_t_two_sided(0, 5) == 1);
    CHECK(st_t_two_sided(INFINITY, 5) == 0);
}

static void t_one_sided(void)
{
    NEAR(st_t_sf(2.0, 10), 0.0733880347707404 / 2, 1e-9);
    NEAR(st_t_sf(-2.0, 10), 1 - 0.0733880347707404 / 2, 1e-12);
    NEAR(st_t_cdf(-3.0, 5), 0.0300992478974626 / 2, 1e-9);
    NEAR(st_t_cdf(0, 3), 0.5, 1e-12);
    /* monotonic over a grid */
    double last = 1;
    for (double t = -20; t <= 20; t += 0.25) {
        double s = st_t_sf(t, 3.3);
        CHECKF(s <= last + 1e-15 && s >= 0 && s <= 1, "t %g: %g after %g", t, s, last);
        last = s;
    }
}

static void normal(void)
{
    NEAR(st_norm_sf(1.959963984540054), 0.025, 1e-9);
    NEAR(st_norm_sf(0), 0.5, 1e-15);
    NEAR(st_norm_sf(-3), 1 - 0.00134989803163009, 1e-12);
}

static void binomial(void)
{
    NEAR(st_binom_sf(3, 10, 0.5), 0.9453125, 1e-12);
    NEAR(st_binom_cdf(3, 10, 0.5), 0.171875, 1e-12);
    NEAR(st_binom_sf(60, 100, 0.5), 0.0284439668204904, 1e-9);
    NEAR(st_binom_sf(480, 1680, 0.2592592592592593), 0.00764426405722578, 1e-8);
    NEAR(st_binom_sf(5000, 10000, 0.49), 0.0232817125192693, 1e-8);
    NEAR(st_binom_cdf(4799, 10000, 0.5), 1 - 0.999969705391186, 1e-6);
    CHECK(st_binom_sf(0, 10, 0.3) == 1);
    CHECK(st_binom_sf(11, 10, 0.3) == 0);
    CHECK(st_binom_cdf(10, 10, 0.3) == 1);
    /* the two tails add up to 1 + P(X = k) */
    double sf = st_binom_sf(7, 20, 0.3), cdf = st_binom_cdf(7, 20, 0.3);
    double pmf = 77520.0 * pow(0.3, 7) * pow(0.7, 13);
    NEAR(sf + cdf, 1 + pmf, 1e-12);
}

static void welch(void)
{
    /* two samples; t, df and p computed from the definitions with mpmath */
    const double x[] = {19.8, 20.4, 19.6, 17.8, 18.5, 18.9, 18.3, 18.9, 19.5, 22.0};
    const double y[] = {28.2, 26.6, 20.1, 23.3, 25.2, 22.1, 17.7, 27.6, 20.6, 13.7,
                        23.2, 17.5, 20.6, 18.0, 23.9, 21.6, 24.3, 20.4, 23.9, 13.3};
    double t, df;
    double p = st_welch(y, 20, x, 10, 1, 0, 1, &t, &df);
    NEAR(t, 2.2255120399698485, 1e-12);
    NEAR(df, 24.524634944257343, 1e-12);
    NEAR(2 * p, 0.03548453083, 1e-8);
    /* the lower side is the complement */
    NEAR(st_welch(y, 20, x, 10, 1, 0, 0, NULL, NULL), 1 - p, 1e-12);
    /* a ratio: y against 1.5 x is a significant decrease */
    CHECK(st_welch(y, 20, x, 10, 1.5, 0, 0, NULL, NULL) < 1e-6);
    /* equal constant samples: no evidence */
    const double c[] = {5, 5, 5};
    CHECK(st_welch(c, 3, c, 3, 1, 0, 1, NULL, NULL) == 0.5);
    const double c2[] = {6, 6, 6};
    CHECK(st_welch(c2, 3, c, 3, 1, 0, 1, NULL, NULL) == 0);
    CHECK(st_welch(c2, 3, c, 3, 1, 0, 0, NULL, NULL) == 1);
    /* one value on a side: no test */
    CHECK(st_welch(c2, 1, c, 3, 1, 0, 1, NULL, NULL) == 1);
}

static void t_cv(void)
{
    /* df 2: P(T > t) = 1/2 - t / (2 sqrt(2 + t^2)); t = 5 / 12.124 */
    double t = 5 / (1.05 * 100 * sqrt(0.01 * (1 + 1.0 / 3)));
    double want = 0.5 - t / (2 * sqrt(2 + t * t));
    NEAR(st_t_cv(110, 1, 100, 3, 1.05, 0.01, 3, 1), want, 1e-9);
    NEAR(st_t_cv(110, 1, 100, 3, 1.05, 0.01, 3, 0), 1 - want, 1e-9);
    /* a 30% slower run against runs that vary by 1%: flagged */
    CHECK(st_t_cv(130, 1, 100, 5, 1.05, 0.0001, 5, 1) < 1e-4);
    /* no spread measured, or no runs to measure it on */
    CHECK(st_t_cv(110, 1, 100, 3, 1.05, 0, 3, 1) == 0);
    CHECK(st_t_cv(100, 1, 100, 3, 1.05, 0, 3, 1) == 1);
    CHECK(st_t_cv(110, 1, 100, 1, 1.05, 0.01, 1, 1) == 1);
    CHECK(st_t_cv(110, 1, 0, 3, 1.05, 0.01, 3, 1) == 1);
}

static void poisson_ratio(void)
{
    /* 480 samples in one run against 1200 in three runs: under H0 (ratio
     * 1.05), 480 of 1680 is binomial with p = 1.05 / 4.05 */
    NEAR(st_poisson_ratio(480, 1, 1200, 3, 1.05, 1), st_binom_sf(480, 1680, 1.05 / 4.05), 1e-12);
    CHECK(st_poisson_ratio(400, 1, 1200, 3, 1.05, 1) > 0.5);
    CHECK(st_poisson_ratio(250, 1, 1200, 3, 0.95, 0) < 1e-6);
    CHECK(st_poisson_ratio(0, 1, 0, 3, 1.05, 1) == 1);
}

static void odds_ratio(void)
{
    /* Woolf: log OR = log(1.2), se = sqrt(sum of 1/cells) */
    double a1 = 1200.5, a0 = 1800.5, b1 = 480.5, b0 = 600.5;
    double lor = log(b1 / b0) - log(a1 / a0), se = sqrt(1 / a1 + 1 / a0 + 1 / b1 + 1 / b0);
    NEAR(st_odds_ratio(1200, 3000, 480, 1080, 1.05, 1), st_norm_sf((lor - log(1.05)) / se), 1e-12);
    NEAR(st_odds_ratio(1200, 3000, 480, 1080, 1.05, 0), st_norm_sf(-(lor - log(1.05)) / se), 1e-12);
    /* the same odds on both sides are no evidence either way */
    CHECK(st_odds_ratio(400, 1000, 400, 1000, 1.0, 1) == 0.5);
}

static void holm(void)
{
    const double p[] = {0.01, 0.04, 0.03, 0.005};
    double adj[4];
    st_holm(p, 4, adj);
    /* sorted: 0.005*4 = 0.02, 0.01*3 = 0.03, 0.03*2 = 0.06, 0.04*1 -> max 0.06 */
    NEAR(adj[3], 0.02, 1e-12);
    NEAR(adj[0], 0.03, 1e-12);
    NEAR(adj[2], 0.06, 1e-12);
    NEAR(adj[1], 0.06, 1e-12);
    /* in place, and clamped at 1 */
    double q[] = {0.5, 0.6, 0.001};
    st_holm(q, 3, q);
    NEAR(q[2], 0.003, 1e-12);
    CHECK(q[0] == 1 && q[1] == 1);
    st_holm(NULL, 0, NULL);
}

int main(void)
{
    unit_prefix = "unit/stats";
    RUN(betai_values);
    RUN(t_two_sided_values);
    RUN(t_one_sided);
    RUN(normal);
    RUN(binomial);
    RUN(welch);
    RUN(t_cv);
    RUN(poisson_ratio);
    RUN(odds_ratio);
    RUN(holm);
    return unit_done();
}
