/* SPDX-License-Identifier: MIT */
#include "stats.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static double clamp01(double p)
{
    if (isnan(p)) return 1.0;
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

/* The continued fraction of I_x(a, b) by the modified Lentz method; it
 * converges fast for x < (a + 1) / (a + b + 2). About sqrt(max(a, b))
 * iterations for large arguments. */
static double betacf(double a, double b, double x)
{
    const double eps = 1e-15, tiny = 1e-300;
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 1000000; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < eps) break;
    }
    return h;
}

double st_betai(double a, double b, double x)
{
    if (!(a > 0) || !(b > 0) || isnan(x) || x < 0 || x > 1) return NAN;
    if (x == 0) return 0;
    if (x == 1) return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    double bt = exp(lbt);
    if (x < (a + 1) / (a + b + 2)) return clamp01(bt * betacf(a, b, x) / a);
    return clamp01(1 - bt * betacf(b, a, 1 - x) / b);
}

/* P(|T| >= |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2) */
double st_t_two_sided(double t, double df)
{
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(t)) return 0;
    double x = df / (df + t * t);
    return clamp01(st_betai(df / 2, 0.5, x));
}

double st_t_sf(double t, double df)
{
    if (isnan(t) || !(df > 0)) return NAN;
    double half = st_t_two_sided(t, df) / 2;
    return t >= 0 ? half : 1 - half;
}

double st_t_cdf(double t, double df)
{
    if (isnan(t) || !(df > 0)) return NAN;
    return st_t_sf(-t, df);
}

double st_norm_sf(double z)
{
    if (isnan(z)) return NAN;
    return clamp01(0.5 * erfc(z / sqrt(2.0)));
}

/* P(X >= k) = I_p(k, n - k + 1) */
double st_binom_sf(uint64_t k, uint64_t n, double p)
{
    if (k == 0) return 1;
    if (k > n) return 0;
    if (p <= 0) return 0;
    if (p >= 1) return 1;
    return st_betai((double)k, (double)(n - k) + 1, p);
}

/* P(X <= k) = I_{1-p}(n - k, k + 1) */
double st_binom_cdf(uint64_t k, uint64_t n, double p)
{
    if (k >= n) return 1;
    if (p <= 0) return 1;
    if (p >= 1) return 0;
    return st_betai((double)(n - k), (double)k + 1, 1 - p);
}

void st_mean_var(const double *x, size_t n, double *mean, double *var)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m += x[i];
    m = n ? m / (double)n : 0;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - m) * (x[i] - m);
    *mean = m;
    *var = n > 1 ? ss / (double)(n - 1) : 0;
}

double st_welch(const double *y, size_t n, const double *x, size_t m, double c, double shift,
                int upper, double *tp, double *dfp)
{
    double my, vy, mx, vx;
    st_mean_var(y, n, &my, &vy);
    st_mean_var(x, m, &mx, &vx);
    double d = my - c * mx - shift;
    double qy = n ? vy / (double)n : 0, qx = m ? c * c * vx / (double)m : 0;
    double se2 = qy + qx;
    double t, df;
    if (n < 2 || m < 2) {
        t = NAN;
        df = NAN;
    } else if (!(se2 > 0) || !isfinite(se2)) {
        t = d > 0 ? INFINITY : d < 0 ? -INFINITY : 0;
        df = (double)(n + m - 2);
    } else {
        t = d / sqrt(se2);
        df = se2 * se2 / (qy * qy / (double)(n - 1) + qx * qx / (double)(m - 1));
        if (!(df >= 1)) df = 1; /* Welch-Satterthwaite is at least min(n, m) - 1 */
    }
    if (tp) *tp = t;
    if (dfp) *dfp = df;
    if (isnan(t)) return 1;
    if (isinf(t) || t == 0) {
        if (t == 0) return 0.5;
        return (t > 0) == (upper != 0) ? 0 : 1;
    }
    return clamp01(upper ? st_t_sf(t, df) : st_t_cdf(t, df));
}

double st_t_cv(double y, size_t n, double x, size_t m, double c, double cv2, size_t k, int upper)
{
    if (k < 2 || !n || !m || !(x > 0) || !(c > 0) || !(cv2 >= 0)) return 1;
    double d = y - c * x;
    double se = c * x * sqrt(cv2 * (1 / (double)n + 1 / (double)m));
    if (!(se > 0)) {
        if (d == 0) return 0.5;
        return (d > 0) == (upper != 0) ? 0 : 1;
    }
    double t = d / se, df = (double)(k - 1);
    return clamp01(upper ? st_t_sf(t, df) : st_t_cdf(t, df));
}

double st_poisson_ratio(uint64_t ky, double ey, uint64_t kx, double ex, double c, int upper)
{
    if (!(ey > 0) || !(ex > 0) || !(c > 0)) return 1;
    uint64_t k = ky + kx;
    if (k == 0) return 1;
    double p = c * ey / (c * ey + ex);
    return clamp01(upper ? st_binom_sf(ky, k, p) : st_binom_cdf(ky, k, p));
}

double st_odds_ratio(uint64_t a, uint64_t n1, uint64_t b, uint64_t n2, double c, int upper)
{
    if (a > n1 || b > n2 || !(c > 0)) return 1;
    double a1 = (double)a + 0.5, a0 = (double)(n1 - a) + 0.5;
    double b1 = (double)b + 0.5, b0 = (double)(n2 - b) + 0.5;
    double lor = log(b1 / b0) - log(a1 / a0);
    double se = sqrt(1 / a1 + 1 / a0 + 1 / b1 + 1 / b0);
    double z = (lor - log(c)) / se;
    return upper ? st_norm_sf(z) : st_norm_sf(-z);
}

void st_holm(const double *p, size_t n, double *adj)
{
    double *q = n ? malloc(n * sizeof(*q)) : NULL;
    size_t *rank = n ? malloc(n * sizeof(*rank)) : NULL;
    if (n && (!q || !rank)) {
        /* no memory: Bonferroni, which Holm never exceeds */
        for (size_t i = 0; i < n; i++)
            adj[i] = clamp01((double)n * p[i]);
        free(q);
        free(rank);
        return;
    }
    for (size_t i = 0; i < n; i++)
        q[i] = clamp01(p[i]);
    /* rank: position in ascending order, ties by index */
    for (size_t i = 0; i < n; i++) {
        size_t r = 0;
        for (size_t j = 0; j < n; j++)
            if (q[j] < q[i] || (q[j] == q[i] && j < i)) r++;
        rank[i] = r;
    }
    for (size_t i = 0; i < n; i++) {
        double a = 0;
        for (size_t j = 0; j < n; j++)
            if (rank[j] <= rank[i]) {
                double v = (double)(n - rank[j]) * q[j];
                if (v > a) a = v;
            }
        adj[i] = clamp01(a);
    }
    free(q);
    free(rank);
}
