-- Customer value: small hand-computed cases and degenerate inputs.
--
-- Model m1: BG/NBD r = 1, alpha = 1, a = 2, b = 1.  With r = b = 1 the
-- hypergeometric functions have closed forms:
--   2F1(1, 1; 2; z) = -ln(1 - z) / z
--   2F1(2, 2; 3; z) = sum 2(n+1)/(n+2) z^n = 2/(1-z) - (2/z^2)(-ln(1-z) - z)
-- New customer, t = 1: z = 1/2,
--   E = (a+b-1)/(a-1) [1 - (1/2) 2F1(1,1;2;1/2)] = 2 (1 - ln 2) = 0.6137056388801094
-- x = 0, T = 1, t = 2: z = 2/4 = 1/2, the same 0.6137056388801094.
-- x = 1, t_x = 1, T = 2, t = 3: z = 3/6 = 1/2, 2F1(2,2;3;1/2) = 4 - 8(ln 2 - 1/2),
--   numerator = 3 [1 - (1/2)^2 2F1] = 3 (2 ln 2 - 1) = 1.1588830833596719,
--   D = 1 + a/(b+x-1) ((alpha+T)/(alpha+t_x))^(r+x) = 1 + 2 (3/2)^2 = 5.5,
--   E = 0.21070601515630394, P(alive) = 1/5.5 = 0.18181818...
-- the same customer, t = 6: z = 2/3, 2F1 = 6 - 4.5 (ln 3 - 2/3),
--   E = 3 [1 - 2F1/9] / 5.5 = 0.2996215332731208
-- a = 1 (removable singularity), r = b = alpha = 1, new customer, t = 1:
--   the limit a -> 1 of (1/(a-1)) [1 - (1-z) 2F1(1,1;a;z)] is -ln(1-z) = ln 2.
-- Gamma-Gamma g1: p = 6, q = 4, gamma = 15:
--   E[M | x, m] = p (gamma + x m) / (p x + q - 1):
--   x = 2, m = 20: 6 * 55 / 15 = 22;  x = 0: p gamma / (q - 1) = 30;
--   x = 1, m = 20: 6 * 35 / 9 = 23.333...
-- ltv with units_per_month = 3 (one "month" = 3 time units):
--   x = 1, t_x = 1, T = 2, m = 20, 1 month, no discount: 0.21070601515630394 * 70/3 = 4.91647368698043
--   the same, discount 10%: 4.91647368698043 / 1.1 = 4.469521533618572
--   2 months, no discount: E(6) * 70/3 = 6.991169109706159 (the months telescope)
--   x = 0, T = 1, 1 month of 2 units: 30 * 0.6137056388801094 = 18.411169166403282
-- sBG alpha = beta = 1: S(t) = 1/(t+1), retention r(t) = t/(t+1);
--   alpha = 2, beta = 1: expected further periods (beta + n)/(alpha - 1): n = 0: 1, n = 2: 3;
--   discounted expected residual lifetime (Fader & Hardie 2010), n - 1
--   renewals made: DERL = (beta+n-1)/(alpha+beta+n-1) 2F1(1, beta+n; alpha+beta+n; 1/(1+d)),
--   the next period undiscounted: alpha = beta = 1, n = 1, d = 1 (z = 1/2):
--   sum_k>=0 z^k/(k+2) = (1/2) 2F1(1, 2; 3; 1/2) = 4 ln 2 - 2 = 0.7725887222397811;
--   alpha = 0.668, beta = 3.806 (F&H's regular customers), d = 0.1: 0 renewals
--   5.414856048374037, 4 renewals 6.897057397746095; alpha = 2, beta = 1,
--   2 renewals, d = 0.05: 2.164943369209163 (the 2F1 series summed in
--   python, term by term, to 1e-18)
BEGIN;
CREATE EXTENSION IF NOT EXISTS funnel;
SELECT plan(62);
SET LOCAL TimeZone = 'UTC';

CREATE TEMP TABLE models AS
SELECT ROW(1, 1, 2, 1, NULL, NULL)::bgnbd_model AS m1,
       ROW(1, 1, 1, 1, NULL, NULL)::bgnbd_model AS m_a1,
       ROW(1, 1, 1.0000001, 1, NULL, NULL)::bgnbd_model AS m_a1p,
       ROW(6, 4, 15, NULL, NULL)::gamma_gamma_model AS g1,
       ROW(1, 1, NULL, NULL, NULL)::sbg_model AS s11,
       ROW(2, 1, NULL, NULL, NULL)::sbg_model AS s21;

CREATE FUNCTION pg_temp.near(got double precision, want double precision, tol double precision DEFAULT 1e-9)
    RETURNS boolean LANGUAGE sql AS $$ SELECT abs(got - want) <= tol * greatest(1, abs(want)) $$;

-- predictions -----------------------------------------------------------------
SELECT is((SELECT expected_purchases(m1, 0, 3, 2, 5) FROM models), 0::double precision, 't = 0: no purchases expected');
SELECT is((SELECT expected_purchases(m1, 0) FROM models), 0::double precision, 'new customer, t = 0: 0');
SELECT ok((SELECT pg_temp.near(expected_purchases(m1, 1), 0.6137056388801094) FROM models), 'new customer, t = 1: 2 (1 - ln 2)');
SELECT ok((SELECT pg_temp.near(expected_purchases(m1, 2, 0, 0, 1), 0.6137056388801094) FROM models), 'frequency 0, T = 1, t = 2: 2 (1 - ln 2)');
SELECT ok((SELECT pg_temp.near(expected_purchases(m1, 3, 1, 1, 2), 0.21070601515630394) FROM models), 'x = 1, t_x = 1, T = 2, t = 3: 3 (2 ln 2 - 1) / 5.5');
SELECT ok((SELECT pg_temp.near(expected_purchases(m1, 6, 1, 1, 2), 0.2996215332731208) FROM models), 'x = 1, t_x = 1, T = 2, t = 6');
SELECT ok((SELECT pg_temp.near(probability_alive(m1, 1, 1, 2), 1 / 5.5) FROM models), 'P(alive) = 1 / 5.5');
SELECT is((SELECT probability_alive(m1, 0, 0, 10) FROM models), 1::double precision, 'P(alive) = 1 without repeat purchases');
SELECT ok((SELECT pg_temp.near(expected_purchases(m_a1, 1), ln(2)) FROM models), 'a = 1: the limit ln 2');
SELECT ok((SELECT pg_temp.near(expected_purchases(m_a1p, 1), ln(2), 1e-6) FROM models), 'a = 1 + 1e-7: continuous at a = 1');
SELECT ok((SELECT expected_purchases(m1, 1e6, 5, 10, 20) > expected_purchases(m1, 1e3, 5, 10, 20) FROM models),
          'a long horizon converges and keeps growing');
SELECT ok((SELECT pg_temp.near(expected_average_spend(g1, 2, 20), 22) FROM models), 'Gamma-Gamma: x = 2, m = 20: 22');
SELECT ok((SELECT pg_temp.near(expected_average_spend(g1, 0, 0), 30) FROM models), 'Gamma-Gamma: x = 0: the population mean 30');
SELECT ok((SELECT pg_temp.near(ltv(m1, g1, 1, 1, 2, 20, months => 1, discount_rate => 0, units_per_month => 3), 4.91647368698043) FROM models),
          'ltv, one month, no discount');
SELECT ok((SELECT pg_temp.near(ltv(m1, g1, 1, 1, 2, 20, months => 1, discount_rate => 0.1, units_per_month => 3), 4.469521533618572) FROM models),
          'ltv, one month, 10% discount');
SELECT ok((SELECT pg_temp.near(ltv(m1, g1, 1, 1, 2, 20, months => 2, discount_rate => 0, units_per_month => 3), 6.991169109706159) FROM models),
          'ltv, two months, no discount');
SELECT ok((SELECT pg_temp.near(ltv(m1, g1, 0, 0, 1, 0, months => 1, discount_rate => 0, units_per_month => 2), 18.411169166403282) FROM models),
          'ltv of a customer without repeat purchases: population spend');
SELECT is((SELECT ltv(m1, g1, 1, 1, 2, 20, months => 0) FROM models), 0::double precision, 'ltv over 0 months is 0');
-- the definition, month by month, with the defaults (12 months, 1%, 30 units)
SELECT ok((SELECT pg_temp.near(ltv(m1, g1, 3, 40, 90, 25),
                               (SELECT sum((expected_purchases(m1, 30.0 * i, 3, 40, 90)
                                            - expected_purchases(m1, 30.0 * (i - 1), 3, 40, 90))
                                           * expected_average_spend(g1, 3, 25) / 1.01 ^ i)
                                  FROM generate_series(1, 12) AS i)) FROM models),
          'ltv = sum over 12 months of expected purchases x spend / 1.01^i');

-- sBG
SELECT ok((SELECT pg_temp.near(sbg_survival(s11, 3), 0.25) FROM models), 'sBG S(3) = 1/4');
SELECT is((SELECT sbg_survival(s11, 0) FROM models), 1::double precision, 'sBG S(0) = 1');
SELECT ok((SELECT pg_temp.near(sbg_retention_rate(s11, 1), 0.5) AND pg_temp.near(sbg_retention_rate(s11, 3), 0.75) FROM models),
          'sBG retention rates 1/2, 3/4');
SELECT ok((SELECT pg_temp.near(sbg_expected_remaining_lifetime(s21), 1)
              AND pg_temp.near(sbg_expected_remaining_lifetime(s21, 2), 3) FROM models),
          'sBG expected further periods (beta + n)/(alpha - 1)');
SELECT is((SELECT sbg_expected_remaining_lifetime(s11) FROM models), 'Infinity'::double precision,
          'sBG alpha <= 1, undiscounted: Infinity');
SELECT ok((SELECT pg_temp.near(sbg_expected_remaining_lifetime(s11, 0, 1.0), 0.7725887222397811, 1e-12) FROM models),
          'sBG DERL (Fader & Hardie 2010): 4 ln 2 - 2');
SELECT ok(pg_temp.near(sbg_expected_remaining_lifetime(ROW(0.668, 3.806, NULL, NULL, NULL)::sbg_model, 0, 0.1), 5.414856048374037, 1e-12)
          AND pg_temp.near(sbg_expected_remaining_lifetime(ROW(0.668, 3.806, NULL, NULL, NULL)::sbg_model, 4, 0.1), 6.897057397746095, 1e-12)
          AND pg_temp.near(sbg_expected_remaining_lifetime(s21, 2, 0.05), 2.164943369209163, 1e-12),
          'sBG DERL against the hypergeometric series') FROM models;
SELECT ok((SELECT pg_temp.near(sbg_survival(s, 7), 241 / 1000.0, 0.02)
             FROM sbg_fit('{1000,631,468,382,326,289,262,241}') AS s),
          'sBG fitted model reproduces the last survivor share (within 2%)');

-- customer_rfm on a hand-made orders table ------------------------------------
CREATE TEMP TABLE hand_orders (customer text, ts timestamptz, amount numeric);
INSERT INTO hand_orders VALUES
    ('a', '2024-01-01 10:00+00', 10), ('a', '2024-01-01 15:00+00', 5),   -- one day: 15
    ('a', '2024-01-08 09:00+00', 20),
    ('a', '2024-01-15 12:00+00', 30), ('a', '2024-01-15 18:00+00', 10),  -- one day: 40
    ('a', '2024-03-01 12:00+00', 100),                                   -- after the end
    ('b', '2024-01-10 08:00+00', 50),
    ('b', NULL, 70), ('b', '2024-01-12 08:00+00', NULL);                 -- not purchases
-- a: days Jan 1, 8, 15: frequency 2, recency 14 days, t = Jan 31 - Jan 1 = 30 days,
--    monetary (20 + 40) / 2 = 30;  b: one purchase: 0, 0, 21 days, 0
SELECT is((SELECT customer_rfm(ts, amount, '2024-01-31 00:00+00') FROM hand_orders WHERE customer = 'a'),
          ROW(2, 14, 30, 30)::rfm_summary, 'customer a: same-day purchases count once, later ones are ignored');
SELECT is((SELECT customer_rfm(ts, amount, '2024-01-31 00:00+00', '7 days') FROM hand_orders WHERE customer = 'a'),
          ROW(2, 2, 30 / 7.0, 30)::rfm_summary, 'customer a in weeks');
SELECT is((SELECT customer_rfm(ts, amount, '2024-01-31 00:00+00') FROM hand_orders WHERE customer = 'b'),
          ROW(0, 0, 21, 0)::rfm_summary, 'customer b: one purchase, NULL rows skipped');
SELECT is((SELECT customer_rfm(ts, amount, '2024-01-31') FROM hand_orders WHERE false),
          NULL::rfm_summary, 'no orders: NULL');
-- calendar days are those of the session time zone
SELECT is((SELECT (customer_rfm(ts, amount, '2024-01-31')).frequency
             FROM (VALUES ('2024-01-01 23:30+00'::timestamptz, 1), ('2024-01-02 00:30+00', 1)) v(ts, amount)),
          1, 'UTC: 23:30 and 00:30 are two days');
SET LOCAL TimeZone = 'America/New_York';
SELECT is((SELECT (customer_rfm(ts, amount, '2024-01-31')).frequency
             FROM (VALUES ('2024-01-01 23:30+00'::timestamptz, 1), ('2024-01-02 00:30+00', 1)) v(ts, amount)),
          0, 'New York: the same two purchases fall on one day');
SET LOCAL TimeZone = 'UTC';
-- window use (the final function leaves the state alone)
SELECT is((SELECT array_agg((s).frequency ORDER BY ts)
             FROM (SELECT ts, customer_rfm(ts, amount, '2024-01-31') OVER (ORDER BY ts) AS s
                     FROM hand_orders WHERE customer = 'a' AND ts < '2024-02-01') w),
          '{0,0,1,2,2}'::integer[], 'customer_rfm as a running window aggregate');

-- degenerate inputs: clear errors ----------------------------------------------
SELECT throws_ok($$SELECT customer_rfm(ts, amount, '2024-01-31')
                     FROM (VALUES ('2024-01-01'::timestamptz, -5::numeric)) v(ts, amount)$$,
                 '22023', 'purchase amount must not be negative, got -5', 'negative amount: error');
SELECT throws_ok($$SELECT customer_rfm(ts, amount, '2023-12-31')
                     FROM (VALUES ('2024-01-01'::timestamptz, 5::numeric)) v(ts, amount)$$,
                 '22023', NULL, 'observation end before the first purchase: error');
SELECT throws_like($$SELECT customer_rfm(ts, amount, '2023-12-31')
                       FROM (VALUES ('2024-01-01'::timestamptz, 5::numeric)) v(ts, amount)$$,
                   '%observation end%is before the customer''s first purchase%', 'and the message says so');
SELECT throws_ok($$SELECT customer_rfm(ts, amount, '2024-01-31', '0 days')
                     FROM (VALUES ('2024-01-01'::timestamptz, 5::numeric)) v(ts, amount)$$,
                 '22023', NULL, 'time_unit 0: error');
SELECT throws_ok($$SELECT customer_rfm(ts, amount, NULL)
                     FROM (VALUES ('2024-01-01'::timestamptz, 5::numeric)) v(ts, amount)$$,
                 '22004', NULL, 'NULL observation end: error');
SELECT throws_ok($$SELECT customer_rfm(ts, amount, '2024-01-31')
                     FROM (VALUES ('2024-01-01'::timestamptz, 'NaN'::numeric)) v(ts, amount)$$,
                 '22023', NULL, 'NaN amount: error');
SELECT throws_ok($$SELECT customer_rfm(ts, 1, e) FROM (VALUES ('2024-01-01'::timestamptz, '2024-01-31'::timestamptz),
                                                            ('2024-01-02', '2024-02-28')) v(ts, e)$$,
                 '22023', 'observation_end must be the same for every row of a group',
                 'observation end changing within a group: error');
SELECT throws_ok($$SELECT bgnbd_fit(x, 0, 10) FROM generate_series(1, 5) g, (VALUES (0)) v(x)$$,
                 '22023', 'BG/NBD fit impossible: none of the 5 customers made a repeat purchase',
                 'no repeat buyers: BG/NBD error');
SELECT throws_ok($$SELECT gamma_gamma_fit(0, 0) FROM generate_series(1, 5)$$,
                 '22023', 'Gamma-Gamma fit needs at least 2 customers with repeat purchases, got 0',
                 'no repeat buyers: Gamma-Gamma error');
SELECT throws_ok($$SELECT bgnbd_fit(1, 1, 2)$$, '22023', 'BG/NBD fit needs at least 2 customers, got 1',
                 'one customer: BG/NBD error');
SELECT throws_ok($$SELECT bgnbd_fit(x, 5, 10) FROM (VALUES (1), (2)) v(x)$$, '22023', NULL,
                 'only repeat buyers: BG/NBD error');
SELECT throws_ok($$SELECT bgnbd_fit(x, tx, t) FROM (VALUES (1, 1, 1), (0, 0, 1)) v(x, tx, t)$$,
                 '22003', 'BG/NBD fit did not converge on 2 customers', 'no finite maximum: BG/NBD error');
SELECT throws_ok($$SELECT gamma_gamma_fit(x, m) FROM (VALUES (1, 10), (1, 20)) v(x, m)$$,
                 '22003', 'Gamma-Gamma fit did not converge on 2 customers', 'no finite maximum: Gamma-Gamma error');
SELECT throws_ok($$SELECT bgnbd_fit(2, 12, 10)$$, '22023', 'recency (12) must not exceed t, the customer''s age (10)',
                 'recency > t: error');
SELECT throws_ok($$SELECT bgnbd_fit(1.5, 2, 10)$$, '22023', NULL, 'fractional frequency: error');
SELECT throws_ok($$SELECT gamma_gamma_fit(2, -3)$$, '22023', NULL, 'negative spend of a repeat customer: error');
SELECT is((SELECT bgnbd_fit(x, 0, 10) FROM generate_series(1, 3) x WHERE false), NULL::bgnbd_model,
          'no customers at all: NULL');
SELECT throws_ok($$SELECT sbg_fit('{1000,900,950}')$$, '22023', NULL, 'sBG: increasing survivors: error');
SELECT throws_ok($$SELECT sbg_fit('{1000,1000,1000}')$$, '22023', 'sBG fit impossible: nobody churned in 2 periods',
                 'sBG: no churn: error');
SELECT throws_ok($$SELECT sbg_fit('{1000,500,250,125}')$$, '22003', 'sBG fit did not converge',
                 'sBG: constant churn has no heterogeneity to fit: error');
SELECT throws_ok($$SELECT sbg_fit('{1000,NULL,800}')$$, '22004', NULL, 'sBG: NULL survivors: error');
SELECT throws_ok($$SELECT expected_average_spend(ROW(6, 0.5, 15, NULL, NULL)::gamma_gamma_model, 1, 10)$$,
                 '22023', NULL, 'spend model with q <= 1: error');
SELECT throws_ok($$SELECT expected_purchases(ROW(-1, 1, 2, 1, NULL, NULL)::bgnbd_model, 1)$$,
                 '22023', NULL, 'negative model parameter: error');
SELECT throws_ok($$SELECT expected_purchases(ROW(NULL, 1, 2, 1, NULL, NULL)::bgnbd_model, 1)$$,
                 '22004', NULL, 'NULL model parameter: error');
SELECT throws_ok($$SELECT expected_purchases(ROW(1, 1, 2, 1, NULL, NULL)::bgnbd_model, -1)$$,
                 '22023', NULL, 'negative horizon: error');
SELECT throws_ok($$SELECT ltv(m1, g1, 1, 1, 2, 20, months => -1) FROM models$$, '22023', NULL, 'negative months: error');
SELECT throws_ok($$SELECT ltv(m1, g1, 1, 1, 2, 20, discount_rate => -1) FROM models$$, '22023', NULL, 'discount -100%: error');
SELECT throws_ok($$SELECT sbg_retention_rate(s11, 0) FROM models$$, '22023', NULL, 'sBG retention of period 0: error');

SELECT * FROM finish();
ROLLBACK;
