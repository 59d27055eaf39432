#!/usr/bin/env python3
"""Independent reference for sql/ltv.sql: the one-call ltv over the CDNOW sample.

From the raw orders (test/data/CDNOW_sample.txt), written from the papers and
not from our C code: per-customer summaries in calendar days (observation end
= the last order of the data; the repeat spend is the mean of the repeat
days' totals), the maximum-likelihood BG/NBD fit (Fader, Hardie & Lee 2005,
eq. 6) and Gamma-Gamma fit (Fader, Hardie & Lee 2005b, on the customers with
paid repeat purchases) by Nelder-Mead on the log-parameters, then the mean
over the customers of sum_i E[Z] (E[Y(30 i)] - E[Y(30 (i-1))]) / (1 + d)^i
with the conditional expectation of the BG/NBD paper (mpmath's 2F1).

    python3 test/tools/ltv_reference.py     (about 10 s)
"""
import math, datetime, os
from collections import defaultdict
from mpmath import mp, mpf, hyp2f1
orders = defaultdict(lambda: defaultdict(float))
for line in open(os.path.join(os.path.dirname(__file__), '..', 'data', 'CDNOW_sample.txt')):
    f = line.split()
    if not f: continue
    d = datetime.date(int(f[2][:4]), int(f[2][4:6]), int(f[2][6:])).toordinal()
    orders[int(f[1])][d] += float(f[4])
end = max(d for c in orders.values() for d in c)
cust = []
for c, days in orders.items():
    ds = sorted(days); first, last = ds[0], ds[-1]
    x = len(ds) - 1
    mx = sum(days[d] for d in ds[1:]) / x if x else 0.0
    cust.append((x, last - first, end - first, mx))
print('customers', len(cust), 'end', datetime.date.fromordinal(end))
def bg_ll(p):
    r, al, a, b = [math.exp(v) for v in p]
    s = 0.0
    for x, tx, T, _ in cust:
        A1 = math.lgamma(r + x) - math.lgamma(r) + r * math.log(al)
        A2 = math.lgamma(a + b) + math.lgamma(b + x) - math.lgamma(b) - math.lgamma(a + b + x)
        A3 = -(r + x) * math.log(al + T)
        if x > 0:
            A4 = math.log(a) - math.log(b + x - 1) - (r + x) * math.log(al + tx)
            mxa = max(A3, A4); s += A1 + A2 + mxa + math.log(math.exp(A3 - mxa) + math.exp(A4 - mxa))
        else:
            s += A1 + A2 + A3
    return -s
rep = [(x, m) for x, _, _, m in cust if x > 0 and m > 0]
def gg_ll(pp):
    p, q, g = [math.exp(v) for v in pp]
    s = 0.0
    for x, m in rep:
        s += (math.lgamma(p * x + q) - math.lgamma(p * x) - math.lgamma(q) + q * math.log(g)
              + (p * x - 1) * math.log(m) + p * x * math.log(x) - (p * x + q) * math.log(x * m + g))
    return -s
def nm(f, x0, step=0.5, tol=1e-12, maxit=20000):
    n = len(x0); pts = [list(x0)] + [[x0[j] + (step if j == i else 0) for j in range(n)] for i in range(n)]
    vals = [f(p) for p in pts]
    for it in range(maxit):
        o = sorted(range(n + 1), key=lambda i: vals[i]); pts = [pts[i] for i in o]; vals = [vals[i] for i in o]
        if abs(vals[-1] - vals[0]) < tol * (1 + abs(vals[0])) and it > 50: break
        c = [sum(p[j] for p in pts[:-1]) / n for j in range(n)]
        xr = [c[j] + (c[j] - pts[-1][j]) for j in range(n)]; fr = f(xr)
        if fr < vals[0]:
            xe = [c[j] + 2 * (c[j] - pts[-1][j]) for j in range(n)]; fe = f(xe)
            pts[-1], vals[-1] = (xe, fe) if fe < fr else (xr, fr)
        elif fr < vals[-2]:
            pts[-1], vals[-1] = xr, fr
        else:
            xc = [c[j] + 0.5 * (pts[-1][j] - c[j]) for j in range(n)]; fc = f(xc)
            if fc < vals[-1]: pts[-1], vals[-1] = xc, fc
            else:
                for i in range(1, n + 1):
                    pts[i] = [pts[0][j] + 0.5 * (pts[i][j] - pts[0][j]) for j in range(n)]; vals[i] = f(pts[i])
    return pts[0], vals[0]
pb, vb = nm(bg_ll, [0.0, math.log(10), 0.0, 0.0])
pb, vb = nm(bg_ll, pb, step=0.05)
r, al, a, b = [math.exp(v) for v in pb]
print('bgnbd r %.6f alpha %.6f a %.6f b %.6f ll %.4f' % (r, al, a, b, -vb))
pg, vg = nm(gg_ll, [0.0, 0.0, 0.0])
pg, vg = nm(gg_ll, pg, step=0.05)
p, q, g = [math.exp(v) for v in pg]
print('gg p %.6f q %.6f gamma %.6f ll %.4f n %d' % (p, q, g, -vg, len(rep)))
mp.dps = 20
def cond(t, x, tx, T):
    num = (a + b + x - 1) / (a - 1) * (1 - ((al + T) / (al + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1, t / (al + T + t)))
    den = 1 + (a / (b + x - 1) * ((al + T) / (al + tx)) ** (r + x) if x > 0 else 0)
    return num / den
def ltv1(x, tx, T, m, months, d, u=30):
    spend = p * (g + x * m) / (p * x + q - 1)
    tot = 0; prev = 0
    for i in range(1, months + 1):
        cur = cond(i * u, x, tx, T); tot += spend * (cur - prev) / (1 + d) ** i; prev = cur
    return tot
from collections import Counter
cnt = Counter(cust)
for months, d in ((12, 0.01), (6, 0.02)):
    tot = sum(n * ltv1(x, tx, T, m, months, d) for (x, tx, T, m), n in cnt.items())
    print('mean ltv', months, d, mp.nstr(tot / len(cust), 12))
