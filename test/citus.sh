#!/usr/bin/env bash
# funnel on a Citus 13.2.2 cluster (doc/citus.md): a coordinator and two
# workers on localhost, each its own data directory under a mktemp folder
# and its own port, shared_preload_libraries = 'citus'.  Builds and installs
# Citus first when it is not installed (the vendored source, build.sh: apt
# build dependencies, about 5 minutes once per machine).  Uses the funnel
# extension installed in the PostgreSQL of $PG_CONFIG (test/run.sh installs
# it before the shell tests).  Loads test/citus/data.sql: the same rows in
# plain tables (schema single: the single-node answer) and in tables
# distributed by their entity, co-located, with a reference table (schema
# dist).  Checks, each printed as "ok" or "FAILED":
#   same      every user-facing function answers the same on the
#             distributed tables as on the plain ones (window_funnel and
#             time_to_convert per entity; funnel_stage_counts and
#             funnel_conversion in every input form, with GROUP BY
#             breakdowns; funnel_summary, rollup, funnel_report, chart, svg;
#             attribution and attribution_report, markov attribution from
#             per-customer transition counts; pipeline_model and its
#             forecasts, also rolled up from per-deal summaries;
#             customer_rfm, the model fits, ltv, ltv_report,
#             cohort_retention, also rolled up from per-customer
#             cohort_counts; retention);
#   pushdown  the shapes doc/citus.md recommends are aggregated on the
#             workers (EXPLAIN VERBOSE: the per-entity query runs whole on
#             the shards; the aggregate over it is split into
#             worker_partial_agg on the workers and coord_combine_agg on the
#             coordinator, no row-gather);
#   network   what the coordinator receives for those shapes (EXPLAIN
#             ANALYZE: "Tuple data received from nodes") does not grow with
#             the number of entities.
# Stops every node at the end (trap).  The last line is "N passed, M failed".
set -euo pipefail
cd "$(dirname "$0")/.."
tree=$(pwd)
system_pg_config=/usr/lib/postgresql/15/bin/pg_config
PG_CONFIG=${PG_CONFIG:-$system_pg_config}
command -v "$PG_CONFIG" >/dev/null || PG_CONFIG=$system_pg_config

source test/tools/citus_cluster.sh
citus_install || { echo "0 passed, 1 failed"; exit 1; }
[ -f "$("$PG_CONFIG" --sharedir)/extension/funnel.control" ] \
  || { echo "citus: the funnel extension is not installed (make install)"; echo "0 passed, 1 failed"; exit 1; }
trap citus_stop EXIT
# a port taken between the check and the start: once more on other ports
citus_start "$(mktemp -d /tmp/funnel-citus.XXXXXX)" 2 -c max_connections=60 -c shared_buffers=64MB \
  || { citus_stop; citus_start "$(mktemp -d /tmp/funnel-citus.XXXXXX)" 2 -c max_connections=60 -c shared_buffers=64MB; } \
  || { echo "0 passed, 1 failed"; exit 1; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
val() { psql -X -A -t -q -v ON_ERROR_STOP=1 "$@"; }
ports=("${citus_ports[@]}")
# created on the coordinator, propagated to the workers
q -c "CREATE EXTENSION funnel" >/dev/null
echo "citus: coordinator on port ${ports[0]}, workers on ${ports[1]} and ${ports[2]}," \
  "Citus $(val -c "SELECT extversion FROM pg_extension WHERE extname = 'citus'")," \
  "funnel $(val -p "${ports[1]}" -c "SELECT extversion FROM pg_extension WHERE extname = 'funnel'") on a worker"
q -f test/citus/data.sql >/dev/null
echo "citus: $(val -c "SELECT count(*) FROM dist.events") events, $(val -c "SELECT count(*) FROM dist.orders") orders," \
  "$(val -c "SELECT count(*) FROM dist.touchpoints") touchpoints, $(val -c "SELECT count(*) FROM dist.leads") stage changes," \
  "$(val -c "SELECT count(*) FROM pg_dist_shard") shards"

passed=0
failed=0
ok() { echo "citus: $1 ok"; passed=$((passed + 1)); }
fail() { echo "citus: $1 FAILED"; [ $# -gt 1 ] && printf '%s\n' "$2" | head -40; failed=$((failed + 1)); }

# same NAME SQL: the answer over schema dist equals the one over schema single
same() {
  local a b
  a=$(PGOPTIONS='-c search_path=single,public' val -c "$2" 2>&1) || true
  b=$(PGOPTIONS='-c search_path=dist,public' val -c "$2" 2>&1) || true
  if [ -z "$a" ] || grep -q '^ERROR:' <<<"$a"; then fail "same: $1 (no answer on one node)" "$a"
  elif [ "$a" = "$b" ]; then ok "same: $1 ($(printf '%s\n' "$a" | wc -l) lines)"
  else fail "same: $1" "$(diff <(printf '%s\n' "$a") <(printf '%s\n' "$b") | head -20)"; fi
}

steps="ARRAY['visit', 'view', 'cart', 'buy']"
conds="event = 'visit', event = 'view', event = 'cart', event = 'buy'"

# -- per entity
same "window_funnel per user, event names" \
  "SELECT user_id, window_funnel('2 hours', ts, event, $steps) FROM events GROUP BY user_id ORDER BY 1"
same "window_funnel per user, conditions, strict_order" \
  "SELECT user_id, window_funnel('1 day', 'strict_order', ts, $conds) FROM events GROUP BY user_id ORDER BY 1"
same "window_funnel per user, funnel_event, strict_increase" \
  "SELECT user_id, window_funnel('1 day', 'strict_increase', funnel_event(ts, array_position($steps, event))) FROM events GROUP BY user_id ORDER BY 1"
same "window_funnel per user, 9 conditions (VARIADIC)" \
  "SELECT user_id, window_funnel('3 days', ts, $conds, event = 'visit', event = 'view', event = 'cart', event = 'buy', event = 'buy') FROM events GROUP BY user_id ORDER BY 1"
same "time_to_convert per user" \
  "SELECT user_id, time_to_convert('2 days', ts, event, $steps), time_to_convert('2 days', '', 2, ts, event, $steps) FROM events GROUP BY user_id ORDER BY 1"

# -- whole-table aggregates (row-gathered on Citus, but the same answer)
same "funnel_stage_counts and funnel_conversion, event names" \
  "SELECT funnel_stage_counts('1 day', user_id, ts, event, $steps), funnel_conversion('1 day', user_id, ts, event, $steps) FROM events"
same "funnel_stage_counts, conditions by channel" \
  "SELECT channel, funnel_stage_counts('1 day', user_id, ts, $conds) FROM events GROUP BY channel ORDER BY 1"
same "funnel_stage_counts, VARIADIC conditions with a mode" \
  "SELECT funnel_stage_counts('1 day', 'strict_deduplication', user_id, ts, VARIADIC ARRAY[event = 'visit', event = 'view', event = 'buy']) FROM events"
same "funnel_conversion, funnel_event by channel" \
  "SELECT channel, funnel_conversion('6 hours', user_id, funnel_event(ts, array_position($steps, event))) FROM events GROUP BY channel ORDER BY 1"
same "funnel_stage_counts, event names, strict_once, by channel" \
  "SELECT channel, funnel_stage_counts('1 day', 'strict_once', user_id, ts, event, $steps) FROM events GROUP BY channel ORDER BY 1"
same "funnel_stage_counts(level, steps) over levels per user, by channel" \
  "SELECT channel, funnel_stage_counts(l, 4), funnel_conversion(l, 4) FROM (SELECT user_id, channel, window_funnel('1 day', ts, event, $steps) l FROM events GROUP BY user_id, channel) s GROUP BY channel ORDER BY 1"
same "funnel_stage_counts(level, steps), whole table" \
  "SELECT funnel_stage_counts(l, 4) FROM (SELECT user_id, window_funnel('1 day', ts, event, $steps) l FROM events GROUP BY user_id) s"
# the recommended two-level form answers what the one-pass form answers
a=$(PGOPTIONS='-c search_path=dist,public' val -c "SELECT channel, funnel_stage_counts(l, 4), funnel_conversion(l, 4) FROM (SELECT user_id, channel, window_funnel('1 day', 'strict_increase', ts, event, $steps) l FROM events GROUP BY user_id, channel) s GROUP BY channel ORDER BY 1")
b=$(PGOPTIONS='-c search_path=dist,public' val -c "SELECT channel, funnel_stage_counts('1 day', 'strict_increase', user_id, ts, event, $steps), funnel_conversion('1 day', 'strict_increase', user_id, ts, event, $steps) FROM events GROUP BY channel ORDER BY 1")
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "same: two-level funnel_stage_counts equals the one-pass form on Citus"
else fail "same: two-level funnel_stage_counts equals the one-pass form on Citus" "$a / $b"; fi

# -- funnel_summary and its reports
same "funnel_summary by channel" \
  "SELECT channel, funnel_summary('1 day', user_id, ts, event, $steps) FROM events GROUP BY channel ORDER BY 1"
same "rollup of per-user summaries, funnel_report" \
  "SELECT r.* FROM (SELECT rollup(s) s FROM (SELECT user_id, funnel_summary('1 day', user_id, ts, event, $steps) s FROM events GROUP BY user_id) p) x, funnel_report(x.s, ARRAY['visit', 'view', 'cart', 'buy']) r"
same "rollup by channel, funnel_report with spend from a reference table" \
  "SELECT p.channel, r.* FROM (SELECT channel, rollup(s) s FROM (SELECT user_id, channel, funnel_summary('1 day', user_id, ts, event, $steps) s FROM events GROUP BY user_id, channel) q GROUP BY channel) p JOIN channel_costs c USING (channel), funnel_report(p.s, c.spend) r ORDER BY 1, 2"
same "funnel_chart and funnel_svg" \
  "SELECT funnel_chart(s, NULL, 40), funnel_svg(s, ARRAY['visit', 'view', 'cart', 'buy']) FROM (SELECT funnel_summary('1 day', user_id, ts, event, $steps) s FROM events) x"

# -- attribution
for model in first_touch last_touch linear position_based "time_decay(7 days)" markov; do
  same "attribution $model, attribution_report" \
    "SELECT r.* FROM (SELECT attribution('$model', customer_id, ts, channel, conversion_value) a FROM touchpoints) x, attribution_report(x.a) r ORDER BY r.channel"
done
# by channel from per-customer summaries (the shape that scales for every
# model but markov, doc/citus.md): the credit of the one-pass aggregate, to
# rounding (sums in another order)
per_customer_attr() {  # per_customer_attr MODEL
  echo "SELECT r.channel, round(sum(r.conversions)::numeric, 9), round(sum(r.value), 6), sum(r.journeys)
          FROM (SELECT customer_id, attribution('$1', customer_id, ts, channel, conversion_value) AS a
                  FROM touchpoints GROUP BY customer_id) per_customer, attribution_report(per_customer.a) r
         GROUP BY r.channel ORDER BY 1"
}
for model in first_touch last_touch linear position_based "time_decay(7 days)"; do
  a=$(PGOPTIONS='-c search_path=single,public' val -c "SELECT r.channel, round(r.conversions::numeric, 9), round(r.value, 6), r.journeys
        FROM (SELECT attribution('$model', customer_id, ts, channel, conversion_value) a FROM touchpoints) x,
             attribution_report(x.a) r ORDER BY 1")
  b=$(PGOPTIONS='-c search_path=dist,public' val -c "$(per_customer_attr "$model")" 2>&1)
  if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "same: attribution $model by channel from per-customer summaries on Citus"
  else fail "same: attribution $model by channel from per-customer summaries on Citus" "$(diff <(echo "$a") <(echo "$b"))"; fi
done
# markov from per-customer transition counts merged on the coordinator
# (doc/citus.md): the credit of attribution('markov', ...) on one node; the
# counts of tied touchpoints are fractions summed in another order, so to
# rounding
markov_counts="SELECT customer_id, markov_transitions(customer_id, ts, channel, conversion_value) AS t
                 FROM touchpoints GROUP BY customer_id"
markov_shape="SELECT r.channel, round(r.conversions::numeric, 9), round(r.value, 6), r.journeys, round(r.conversion_rate::numeric, 12)
                FROM (SELECT rollup(t) AS t FROM ($markov_counts) per_customer) x, attribution_report(markov_attribution(x.t)) r ORDER BY 1"
a=$(PGOPTIONS='-c search_path=single,public' val -c "SELECT r.channel, round(r.conversions::numeric, 9), round(r.value, 6), r.journeys, round(r.conversion_rate::numeric, 12)
      FROM (SELECT attribution('markov', customer_id, ts, channel, conversion_value) a FROM touchpoints) x,
           attribution_report(x.a) r ORDER BY 1")
b=$(PGOPTIONS='-c search_path=dist,public' val -c "$markov_shape" 2>&1)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "same: attribution markov from per-customer transition counts on Citus ($(wc -l <<<"$a") channels)"
else fail "same: attribution markov from per-customer transition counts on Citus" "$(diff <(echo "$a") <(echo "$b"))"; fi
same "markov_transitions of the whole table, markov_attribution" \
  "SELECT t, markov_attribution(t) FROM (SELECT markov_transitions(customer_id, ts, channel, conversion_value, '10 days') t FROM touchpoints) x"
same "attribution summary with a lookback" \
  "SELECT attribution('linear', customer_id, ts, channel, conversion_value, '3 days') FROM touchpoints"

# -- pipeline
same "pipeline_model, pipeline_report" \
  "SELECT r.* FROM (SELECT pipeline_model(lead_id, ts, stage, ARRAY['won', 'lost']) m FROM leads) x, pipeline_report(x.m) r ORDER BY 1, 2"
same "pipeline_forecast, pipeline_period_forecast" \
  "SELECT f.*, p.* FROM (SELECT pipeline_model(lead_id, ts, stage, ARRAY['won', 'lost'], ARRAY['new', 'qualified', 'proposal', 'negotiation']) m FROM leads) x, pipeline_forecast(x.m) f, pipeline_period_forecast(x.m, '30 days') p ORDER BY 1, 4"

# pipeline_model per deal on the shards, rolled up on the coordinator
# (doc/citus.md): the summary, report and forecasts of pipeline_model on one node
pipe_order="ARRAY['won', 'lost'], ARRAY['new', 'qualified', 'proposal', 'negotiation']"
pipe_per_deal="SELECT lead_id, pipeline_model(lead_id, ts, stage, $pipe_order) AS m FROM leads GROUP BY lead_id"
pipe_read() {  # pipe_read SUMMARY_SQL: the summary's bytes, report and forecasts
  echo "SELECT encode(pipeline_summary_send(x.m), 'hex'), (SELECT array_agg(r::text ORDER BY r::text) FROM pipeline_report(x.m) r),
               (SELECT array_agg(f::text ORDER BY f::text) FROM pipeline_forecast(x.m) f),
               (SELECT array_agg(p::text ORDER BY p::text) FROM pipeline_period_forecast(x.m, '30 days') p)
          FROM ($1) x"
}
a=$(PGOPTIONS='-c search_path=single,public' val -c "$(pipe_read "SELECT pipeline_model(lead_id, ts, stage, $pipe_order) AS m FROM leads")")
b=$(PGOPTIONS='-c search_path=dist,public' val -c "$(pipe_read "SELECT rollup(m) AS m FROM ($pipe_per_deal) per_deal")" 2>&1)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "same: pipeline_model per deal rolled up on Citus = pipeline_model (bytes, report, forecasts)"
else fail "same: pipeline_model per deal rolled up on Citus = pipeline_model" "$(diff <(echo "$a") <(echo "$b"))"; fi

# -- customer value
rfm="SELECT customer_id, channel, (customer_rfm(ts, amount, '1998-07-01')).* FROM orders GROUP BY customer_id, channel"
same "customer_rfm per customer" "$rfm ORDER BY 1"
same "bgnbd_fit and gamma_gamma_fit over per-customer summaries" \
  "SELECT bgnbd_fit(frequency, recency, t), gamma_gamma_fit(frequency, monetary_value) FROM ($rfm) s"
same "ltv and ltv_report by channel" \
  "SELECT channel, ltv(customer_id, ts, amount), ltv_report(customer_id, ts, amount, '6 months') FROM orders GROUP BY channel ORDER BY 1"
same "cohort_retention, cohort_report" \
  "SELECT r.* FROM (SELECT cohort_retention(customer_id, ts, 'quarter', 6) m FROM orders) x, cohort_report(x.m) r"
same "cohort_retention by channel, weekly" \
  "SELECT channel, cohort_retention(customer_id, ts, 'week', 20) FROM orders GROUP BY channel ORDER BY 1"
same "cohort_retention by channel" \
  "SELECT channel, cohort_retention(user_id, ts, 'week') FROM events GROUP BY channel ORDER BY 1"
# cohorts by month with built-ins (doc/citus.md): cohort_report's counts
a=$(PGOPTIONS='-c search_path=single,public' val -c "SELECT cohort_start, period, active FROM cohort_report((SELECT cohort_retention(customer_id, ts) FROM orders)) WHERE active > 0 ORDER BY 1, 2")
cohorts="SELECT cohort, period, count(*) AS active
  FROM (SELECT customer_id, date_trunc('month', ts) AS period,
               min(date_trunc('month', ts)) OVER (PARTITION BY customer_id) AS cohort
        FROM orders GROUP BY customer_id, date_trunc('month', ts)) per_customer_month
 GROUP BY cohort, period"
b=$(PGOPTIONS='-c search_path=dist,public' val -c "SELECT cohort::date, k, active FROM (SELECT cohort, active,
      ((extract(year FROM period) - extract(year FROM cohort)) * 12 + extract(month FROM period) - extract(month FROM cohort))::int AS k
      FROM ($cohorts) c) x WHERE k <= 12 ORDER BY 1, 2" 2>&1)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "same: monthly cohort counts with built-ins on Citus = cohort_report ($(wc -l <<<"$a") lines)"
else fail "same: monthly cohort counts with built-ins on Citus = cohort_report" "$(diff <(echo "$a") <(echo "$b") | head)"; fi
# cohort_counts per customer on the shards, rolled up on the coordinator
# (doc/citus.md): the matrix of cohort_retention on one node
cohort_per_customer="SELECT customer_id, cohort_counts(customer_id, ts, 'week', 20) AS a FROM orders GROUP BY customer_id"
a=$(PGOPTIONS='-c search_path=single,public' val -c "SELECT cohort_retention(customer_id, ts, 'week', 20) FROM orders")
b=$(PGOPTIONS='-c search_path=dist,public' val -c "SELECT cohort_matrix(rollup(a)) FROM ($cohort_per_customer) per_customer" 2>&1)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "same: cohort_counts per customer rolled up on Citus = cohort_retention"
else fail "same: cohort_counts per customer rolled up on Citus = cohort_retention" "$(diff <(echo "$a") <(echo "$b"))"; fi
a=$(PGOPTIONS='-c search_path=single,public' val -c "SELECT channel, cohort_retention(customer_id, ts) FROM orders GROUP BY channel ORDER BY 1")
b=$(PGOPTIONS='-c search_path=dist,public' val -c "SELECT channel, cohort_matrix(rollup(a)) FROM (SELECT customer_id, channel, cohort_counts(customer_id, ts) AS a FROM orders GROUP BY customer_id, channel) p GROUP BY channel ORDER BY 1" 2>&1)
if [ -n "$a" ] && [ "$a" = "$b" ]; then ok "same: cohort_counts by channel rolled up on Citus = cohort_retention by channel"
else fail "same: cohort_counts by channel rolled up on Citus = cohort_retention by channel" "$(diff <(echo "$a") <(echo "$b"))"; fi
# ltv by channel in two passes: models fitted from per-customer summaries,
# then the mean prediction per customer on the workers
same "ltv by channel: fits from per-customer summaries, predictions per customer" \
  "WITH models AS MATERIALIZED (SELECT channel, bgnbd_fit(frequency, recency, t) AS bg, gamma_gamma_fit(frequency, monetary_value) AS gg FROM ($rfm) s GROUP BY channel)
   SELECT s.channel, round(avg(ltv(m.bg, m.gg, s.frequency, s.recency, s.t, s.monetary_value))::numeric, 6)
     FROM ($rfm) s JOIN models m USING (channel) GROUP BY s.channel ORDER BY 1"
same "retention per user, summed" \
  "SELECT sum(r[1]), sum(r[2]), sum(r[3]) FROM (SELECT user_id, retention(event = 'visit', event = 'cart', event = 'buy') r FROM events GROUP BY user_id) s"

# ---- the recommended shapes push down
# pushdown NAME SQL: EXPLAIN VERBOSE shows the aggregate split between workers and coordinator
explain() { PGOPTIONS='-c search_path=dist,public' val -c "EXPLAIN (VERBOSE, COSTS OFF) $1"; }
split_agg() {  # split_agg NAME SQL [WORKER_AGGREGATE]
  local plan
  plan=$(explain "$2")
  if grep -q "Query: SELECT .*${3:-worker_partial_agg}(" <<<"$plan" \
     && { [ -n "${3:-}" ] || grep -q 'coord_combine_agg' <<<"$plan"; }; then
    ok "pushdown: $1"
  else fail "pushdown: $1" "$plan"; fi
}
# whole_on_shards NAME SQL: the coordinator only concatenates (no Aggregate above the Citus scan)
whole_on_shards() {
  local plan top
  plan=$(explain "$2")
  top=$(grep -v '^ *Output:' <<<"$plan" | head -1)
  if [[ $top == *"Custom Scan (Citus Adaptive)"* ]] && ! grep -q 'coord_combine_agg\|^ *->  Aggregate\|^Aggregate\|GroupAggregate\|HashAggregate' <<<"$(sed -n '1,3p' <<<"$plan")"; then
    ok "pushdown: $1"
  else fail "pushdown: $1" "$plan"; fi
}
levels="SELECT user_id, channel, window_funnel('1 day', ts, event, $steps) AS level FROM events GROUP BY user_id, channel"
shape_counts="SELECT channel, funnel_stage_counts(level, 4), funnel_conversion(level, 4) FROM ($levels) per_user GROUP BY channel"
whole_on_shards "window_funnel grouped by the distribution column" "$levels"
split_agg "funnel_stage_counts(level, steps) by channel over levels per user" "$shape_counts"
split_agg "funnel_stage_counts(level, steps) of the whole table over levels per user" \
  "SELECT funnel_stage_counts(level, 4) FROM ($levels) per_user"
summaries="SELECT user_id, channel, funnel_summary('1 day', user_id, ts, event, $steps) AS s FROM events GROUP BY user_id, channel"
split_agg "rollup of per-user funnel_summary by channel" "SELECT channel, rollup(s) FROM ($summaries) per_user GROUP BY channel"
split_agg "attribution by channel from per-customer summaries" "$(per_customer_attr linear)" sum
split_agg "monthly cohort counts with built-ins" "$cohorts" count
split_agg "bgnbd_fit and gamma_gamma_fit over per-customer summaries" "SELECT bgnbd_fit(frequency, recency, t), gamma_gamma_fit(frequency, monetary_value) FROM ($rfm) s"
split_agg "cohort_counts per customer, rolled up" "SELECT rollup(a) FROM ($cohort_per_customer) per_customer"
split_agg "pipeline_model per deal, rolled up" "SELECT rollup(m) FROM ($pipe_per_deal) per_deal"
split_agg "markov transition counts per customer, merged" "SELECT rollup(t) FROM ($markov_counts) per_customer"
split_agg "retention summed over users (sum of ClickHouse retention)" \
  "SELECT sum(r[1]), sum(r[2]) FROM (SELECT user_id, retention(event = 'visit', event = 'buy') r FROM events GROUP BY user_id) s" sum

# ---- what the coordinator receives does not grow with the entities
export CITUS_SEARCH_PATH=dist,public
shards=$(val -c "SELECT count(*) FROM pg_dist_shard WHERE logicalrelid = 'dist.events'::regclass")
# network NAME MAX_BYTES_PER_ROW SQL: the coordinator receives at most one
# row per shard and result row (group), each of a bounded size, however
# many entities and rows the shards hold
network() {
  local got result rows bytes
  got=$(citus_received "$3")
  result=$(PGOPTIONS='-c search_path=dist,public' val -c "$3" | wc -l)
  rows=${got% *}; bytes=${got#* }
  if [ -n "$got" ] && [ "$rows" -le $((shards * result)) ] && [ "$bytes" -le $((rows * $2)) ]; then
    ok "network: $1 ($rows rows, $bytes bytes for $result groups on $shards shards)"
  else fail "network: $1 ($rows rows, $bytes bytes for $result groups on $shards shards)"; fi
}
network "funnel_stage_counts by channel over levels per user" 100 "$shape_counts"
network "rollup of per-user funnel_summary by channel" 4000 \
  "SELECT channel, rollup(s) FROM ($summaries) per_user GROUP BY channel"
network "attribution by channel from per-customer summaries" 200 "$(per_customer_attr linear)"
network "markov transition counts per customer, merged" 4000 "SELECT rollup(t) FROM ($markov_counts) per_customer"
network "pipeline_model per deal, rolled up" 4000 "SELECT rollup(m) FROM ($pipe_per_deal) per_deal"
network "cohort_counts per customer, rolled up" 4000 "SELECT rollup(a) FROM ($cohort_per_customer) per_customer"
# the fits' statistics grow with the distinct (frequency, recency, t) and
# (frequency, monetary value), not with the customers: each shard sends at
# most one row of statistics per model, and fewer summaries than customers
stats_rows=$(PGOPTIONS='-c search_path=dist,public' val -c "SELECT count(DISTINCT (frequency, recency, t)) + count(DISTINCT (frequency, monetary_value)) FILTER (WHERE frequency > 0), count(*) FROM ($rfm) s")
got=$(citus_received "SELECT bgnbd_fit(frequency, recency, t), gamma_gamma_fit(frequency, monetary_value) FROM ($rfm) s")
if [ -n "$got" ] && [ "${got% *}" -le "$shards" ]; then ok "network: bgnbd_fit and gamma_gamma_fit over per-customer summaries (${got% *} rows, ${got#* } bytes; distinct summaries and customers: $stats_rows)"
else fail "network: bgnbd_fit and gamma_gamma_fit over per-customer summaries ($got)"; fi
# the one-pass form is row-gathered: one row per event (the check above can fail)
got=$(citus_received "SELECT funnel_stage_counts('1 day', user_id, ts, event, $steps) FROM events")
events=$(val -c "SELECT count(*) FROM dist.events")
if [ "${got% *}" = "$events" ]; then ok "network: the one-pass form is row-gathered (${got% *} rows, ${got#* } bytes)"
else fail "network: the one-pass form is row-gathered ($got received, $events events)"; fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
