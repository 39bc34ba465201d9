-- db/views.sql - every metric of docs/METHOD.md as a SQL view.
--
-- Applied by store_open after db/schema.sql (compiled in through
-- db/schema_sql.h).  Each view is dropped and re-created, so a new build's
-- definitions replace the old ones; views hold no data.
--
-- Definitions (METHOD.md "Metrics"):
--   TTFT = first token - arrival; E2E = last token - arrival;
--   TPOT = (E2E - TTFT) / (output_tokens - 1), undefined for one-token outputs;
--   APE = |predicted - measured| / measured; signed error = (predicted - measured) / measured;
--   experiment MAPE = mean APE over the experiment's successful requests at the
--     selected load points (requests pooled across points);
--   corpus MAPE = unweighted mean of experiment MAPEs (each experiment counts once);
--   APE of means = |mean predicted - mean measured| / mean measured;
--   runaway load point = mean predicted E2E > 3 x mean measured E2E (flagged,
--     never dropped).
-- Pairing rule used by every view: a request counts for a metric when its
-- run is 'ok', its measured twin is ok, both values are defined (not NULL)
-- and the measured value is > 0.  Means, APEs, biases, absolute errors and
-- percentiles of one metric are all taken over the same pairs, so a rejected
-- prediction (NULL times) or a one-token TPOT drops out of that metric only;
-- n_rejected counts the rejected ones so they are never out of sight.
-- Column naming: meas_X / pred_X (s), ape_X, signed_X (fractions, 0.1 =
-- 10%), mape_X = mean APE, ape_of_mean_X, bias_X = mean signed error,
-- mae_X_ms = mean |predicted - measured| in ms, n_X = pairs for metric X.
-- "selection" is which load points an experiment-level row covers: 'all',
-- 'lowest' (is_lowest points) or 'highest' (is_highest points).

-- Storage: pred_ape and the *_live views compute from the raw rows.  Over
-- ~50 M predictions an aggregate over everything takes minutes, so the
-- metric views read per-run aggregates that store_run_commit writes in the
-- transaction that makes a run 'ok' (tables cache_point_sums,
-- cache_point_pctl, cache_sel_pctl; store.c computes them from the run's
-- pred_ape rows, and tests/t_store.c checks them against the *_live views).
-- To re-derive a cached number from the raw rows, compare e.g.
--     SELECT * FROM point_sums_live WHERE run_id = 7;
--     SELECT * FROM cache_point_sums WHERE run_id = 7;
-- (likewise point_pctl_live / cache_point_pctl, sel_pctl_live /
-- cache_sel_pctl; a run_id filter on a *_live view reaches the raw rows).

DROP VIEW IF EXISTS criteria_summary;
DROP VIEW IF EXISTS pctl_metrics_highest;
DROP VIEW IF EXISTS pctl_metrics_lowest;
DROP VIEW IF EXISTS pctl_metrics;
DROP VIEW IF EXISTS pctl_metrics_sel;
DROP VIEW IF EXISTS pctl_point_metrics;
DROP VIEW IF EXISTS split_metrics;
DROP VIEW IF EXISTS split_metrics_sel;
DROP VIEW IF EXISTS corpus_metrics_highest;
DROP VIEW IF EXISTS corpus_metrics_lowest;
DROP VIEW IF EXISTS corpus_metrics;
DROP VIEW IF EXISTS corpus_metrics_sel;
DROP VIEW IF EXISTS config_metrics_sel;
DROP VIEW IF EXISTS config_exp_metrics_sel;
DROP VIEW IF EXISTS exp_metrics_highest;
DROP VIEW IF EXISTS exp_metrics_lowest;
DROP VIEW IF EXISTS exp_metrics;
DROP VIEW IF EXISTS exp_metrics_sel;
DROP VIEW IF EXISTS exp_point_metrics;
DROP VIEW IF EXISTS point_sums;
DROP VIEW IF EXISTS sel_pctl_live;
DROP VIEW IF EXISTS point_pctl_live;
DROP VIEW IF EXISTS pred_long;
DROP VIEW IF EXISTS point_sums_live;
DROP VIEW IF EXISTS pred_ape;
DROP VIEW IF EXISTS run_info;

-- {===================================================================
-- Provenance and per-request errors (live)
-- ====================================================================

-- run_info: one row per run with its provenance: which configuration (name,
-- hash, the revision that first stored it), which engine revision ran it,
-- which experiment and seed, and how it ended.
CREATE VIEW run_info AS
SELECT r.id AS run_id, r.status, r.error, r.hypothesis, r.label, r.seed,
       r.experiment_id, x.number AS experiment_number, x.family,
       r.config_id, c.name AS config_name, c.hash AS config_hash,
       c.git_rev AS config_git_rev, r.git_rev AS run_git_rev,
       r.n_predictions, r.steps, r.sim_seconds, r.wall_seconds, r.preemptions,
       r.rejected, r.mean_batch, r.busy_fraction, r.pid, r.host, r.started, r.finished
FROM runs r
JOIN configs c ON c.id = r.config_id
JOIN experiments x ON x.id = r.experiment_id;

-- pred_ape: one row per prediction of an 'ok' run whose measured twin is ok,
-- with measured and predicted TTFT/TPOT/E2E (s) and, per metric, APE =
-- |pred - meas| / meas and signed error = (pred - meas) / meas.  meas_X and
-- pred_X are NULL unless the pair is defined (pairing rule above), e.g. TPOT
-- only where both sides have more than one output token.
CREATE VIEW pred_ape AS
SELECT run_id, config_id, hypothesis, label, seed, experiment_id, point,
       is_lowest, is_highest, req_index, rejected,
       meas_ttft, pred_ttft,
       abs(pred_ttft - meas_ttft) / meas_ttft AS ape_ttft,
       (pred_ttft - meas_ttft) / meas_ttft AS signed_ttft,
       meas_tpot, pred_tpot,
       abs(pred_tpot - meas_tpot) / meas_tpot AS ape_tpot,
       (pred_tpot - meas_tpot) / meas_tpot AS signed_tpot,
       meas_e2e, pred_e2e,
       abs(pred_e2e - meas_e2e) / meas_e2e AS ape_e2e,
       (pred_e2e - meas_e2e) / meas_e2e AS signed_e2e
FROM (
    SELECT r.id AS run_id, r.config_id, r.hypothesis, r.label, r.seed,
           r.experiment_id, p.point, lp.is_lowest, lp.is_highest,
           p.req_index, p.rejected,
           CASE WHEN m.ttft > 0 AND p.ttft IS NOT NULL THEN m.ttft END AS meas_ttft,
           CASE WHEN m.ttft > 0 THEN p.ttft END AS pred_ttft,
           CASE WHEN m.tpot > 0 AND p.tpot IS NOT NULL THEN m.tpot END AS meas_tpot,
           CASE WHEN m.tpot > 0 THEN p.tpot END AS pred_tpot,
           CASE WHEN m.e2e > 0 AND p.e2e IS NOT NULL THEN m.e2e END AS meas_e2e,
           CASE WHEN m.e2e > 0 THEN p.e2e END AS pred_e2e
    FROM runs r
    JOIN predictions p ON p.run_id = r.id
    JOIN measured m ON m.experiment_id = r.experiment_id AND m.req_index = p.req_index
    JOIN load_points lp ON lp.experiment_id = r.experiment_id AND lp.point = p.point
    WHERE r.status = 'ok' AND m.ok = 1
);

-- point_sums_live: per run x load point, the sums every metric is built
-- from (columns of table cache_point_sums): n = requests with an ok twin,
-- n_rejected, and per metric n_X = pairs, s_ape_X, s_signed_X, s_abs_X =
-- sum |pred - meas| (s), s_meas_X, s_pred_X (s).  Sums, not means, so that
-- pooling load points weights every request once.
CREATE VIEW point_sums_live AS
SELECT run_id, point, count(*) AS n, sum(rejected) AS n_rejected,
       count(meas_ttft) AS n_ttft, sum(ape_ttft) AS s_ape_ttft, sum(signed_ttft) AS s_signed_ttft,
       sum(abs(pred_ttft - meas_ttft)) AS s_abs_ttft,
       sum(meas_ttft) AS s_meas_ttft, sum(pred_ttft) AS s_pred_ttft,
       count(meas_tpot) AS n_tpot, sum(ape_tpot) AS s_ape_tpot, sum(signed_tpot) AS s_signed_tpot,
       sum(abs(pred_tpot - meas_tpot)) AS s_abs_tpot,
       sum(meas_tpot) AS s_meas_tpot, sum(pred_tpot) AS s_pred_tpot,
       count(meas_e2e) AS n_e2e, sum(ape_e2e) AS s_ape_e2e, sum(signed_e2e) AS s_signed_e2e,
       sum(abs(pred_e2e - meas_e2e)) AS s_abs_e2e,
       sum(meas_e2e) AS s_meas_e2e, sum(pred_e2e) AS s_pred_e2e
FROM pred_ape
GROUP BY run_id, point;

-- pred_long: pred_ape in long form, one row per defined pair and metric
-- ('ttft' | 'tpot' | 'e2e'): meas, pred (s), ape.  Input of the percentiles.
CREATE VIEW pred_long AS
SELECT run_id, experiment_id, point, is_lowest, is_highest, req_index,
       'ttft' AS metric, meas_ttft AS meas, pred_ttft AS pred, ape_ttft AS ape
FROM pred_ape WHERE ape_ttft IS NOT NULL
UNION ALL
SELECT run_id, experiment_id, point, is_lowest, is_highest, req_index,
       'tpot', meas_tpot, pred_tpot, ape_tpot
FROM pred_ape WHERE ape_tpot IS NOT NULL
UNION ALL
SELECT run_id, experiment_id, point, is_lowest, is_highest, req_index,
       'e2e', meas_e2e, pred_e2e, ape_e2e
FROM pred_ape WHERE ape_e2e IS NOT NULL;

-- Percentiles.  Convention (numpy's default "linear", Hyndman-Fan type 7):
-- for n sorted values x[0..n-1] and quantile q, h = (n - 1) q, i = floor h,
-- P_q = x[i] + (h - i) (x[min(i + 1, n - 1)] - x[i]).
-- Measured, predicted and APE percentiles are over the same pairs (pairing
-- rule above), each sorted on its own.  Written with window functions
-- only, so that a run_id filter reaches the raw rows (an aggregate would
-- stop it); about a second for a 20,000-request run.
-- point_pctl_live: per run x load point x metric (columns of table
-- cache_point_pctl): n pairs, median and P90 of per-request APE, measured
-- and predicted P90 and P99 (s).
CREATE VIEW point_pctl_live AS
SELECT run_id, point, metric, n,
       a50_lo + f50 * (a50_hi - a50_lo) AS ape_p50,
       a90_lo + f90 * (a90_hi - a90_lo) AS ape_p90,
       m90_lo + f90 * (m90_hi - m90_lo) AS meas_p90,
       p90_lo + f90 * (p90_hi - p90_lo) AS pred_p90,
       m99_lo + f99 * (m99_hi - m99_lo) AS meas_p99,
       p99_lo + f99 * (p99_hi - p99_lo) AS pred_p99
FROM (
    SELECT run_id, point, metric, n, f50, f90, f99,
           row_number() OVER w AS rn,
           max(CASE ka WHEN i50 THEN ape END) OVER w AS a50_lo,
           max(CASE ka WHEN min(i50 + 1, n - 1) THEN ape END) OVER w AS a50_hi,
           max(CASE ka WHEN i90 THEN ape END) OVER w AS a90_lo,
           max(CASE ka WHEN min(i90 + 1, n - 1) THEN ape END) OVER w AS a90_hi,
           max(CASE km WHEN i90 THEN meas END) OVER w AS m90_lo,
           max(CASE km WHEN min(i90 + 1, n - 1) THEN meas END) OVER w AS m90_hi,
           max(CASE km WHEN i99 THEN meas END) OVER w AS m99_lo,
           max(CASE km WHEN min(i99 + 1, n - 1) THEN meas END) OVER w AS m99_hi,
           max(CASE kp WHEN i90 THEN pred END) OVER w AS p90_lo,
           max(CASE kp WHEN min(i90 + 1, n - 1) THEN pred END) OVER w AS p90_hi,
           max(CASE kp WHEN i99 THEN pred END) OVER w AS p99_lo,
           max(CASE kp WHEN min(i99 + 1, n - 1) THEN pred END) OVER w AS p99_hi
    FROM (
        SELECT *, row_number() OVER (w ORDER BY ape) - 1 AS ka,
                  row_number() OVER (w ORDER BY meas) - 1 AS km,
                  row_number() OVER (w ORDER BY pred) - 1 AS kp
        FROM (
            SELECT run_id, point, metric, meas, pred, ape, n,
                   CAST((n - 1) * 0.50 AS INTEGER) AS i50,
                   (n - 1) * 0.50 - CAST((n - 1) * 0.50 AS INTEGER) AS f50,
                   CAST((n - 1) * 0.90 AS INTEGER) AS i90,
                   (n - 1) * 0.90 - CAST((n - 1) * 0.90 AS INTEGER) AS f90,
                   CAST((n - 1) * 0.99 AS INTEGER) AS i99,
                   (n - 1) * 0.99 - CAST((n - 1) * 0.99 AS INTEGER) AS f99
            FROM (
                SELECT run_id, point, metric, meas, pred, ape,
                       count(*) OVER (PARTITION BY run_id, point, metric) AS n
                FROM pred_long
            )
        )
        WINDOW w AS (PARTITION BY run_id, point, metric)
    )
    WINDOW w AS (PARTITION BY run_id, point, metric)
)
WHERE rn = 1;

-- sel_pctl_live: the same per run x selection x metric (columns of table
-- cache_sel_pctl), the selected load points' requests pooled.
CREATE VIEW sel_pctl_live AS
SELECT run_id, selection, metric, n,
       a50_lo + f50 * (a50_hi - a50_lo) AS ape_p50,
       a90_lo + f90 * (a90_hi - a90_lo) AS ape_p90,
       m90_lo + f90 * (m90_hi - m90_lo) AS meas_p90,
       p90_lo + f90 * (p90_hi - p90_lo) AS pred_p90,
       m99_lo + f99 * (m99_hi - m99_lo) AS meas_p99,
       p99_lo + f99 * (p99_hi - p99_lo) AS pred_p99
FROM (
    SELECT run_id, selection, metric, n, f50, f90, f99,
           row_number() OVER w AS rn,
           max(CASE ka WHEN i50 THEN ape END) OVER w AS a50_lo,
           max(CASE ka WHEN min(i50 + 1, n - 1) THEN ape END) OVER w AS a50_hi,
           max(CASE ka WHEN i90 THEN ape END) OVER w AS a90_lo,
           max(CASE ka WHEN min(i90 + 1, n - 1) THEN ape END) OVER w AS a90_hi,
           max(CASE km WHEN i90 THEN meas END) OVER w AS m90_lo,
           max(CASE km WHEN min(i90 + 1, n - 1) THEN meas END) OVER w AS m90_hi,
           max(CASE km WHEN i99 THEN meas END) OVER w AS m99_lo,
           max(CASE km WHEN min(i99 + 1, n - 1) THEN meas END) OVER w AS m99_hi,
           max(CASE kp WHEN i90 THEN pred END) OVER w AS p90_lo,
           max(CASE kp WHEN min(i90 + 1, n - 1) THEN pred END) OVER w AS p90_hi,
           max(CASE kp WHEN i99 THEN pred END) OVER w AS p99_lo,
           max(CASE kp WHEN min(i99 + 1, n - 1) THEN pred END) OVER w AS p99_hi
    FROM (
        SELECT *, row_number() OVER (w ORDER BY ape) - 1 AS ka,
                  row_number() OVER (w ORDER BY meas) - 1 AS km,
                  row_number() OVER (w ORDER BY pred) - 1 AS kp
        FROM (
            SELECT run_id, selection, metric, meas, pred, ape, n,
                   CAST((n - 1) * 0.50 AS INTEGER) AS i50,
                   (n - 1) * 0.50 - CAST((n - 1) * 0.50 AS INTEGER) AS f50,
                   CAST((n - 1) * 0.90 AS INTEGER) AS i90,
                   (n - 1) * 0.90 - CAST((n - 1) * 0.90 AS INTEGER) AS f90,
                   CAST((n - 1) * 0.99 AS INTEGER) AS i99,
                   (n - 1) * 0.99 - CAST((n - 1) * 0.99 AS INTEGER) AS f99
            FROM (
                SELECT run_id, selection, metric, meas, pred, ape,
                       count(*) OVER (PARTITION BY run_id, selection, metric) AS n
                FROM (
                    SELECT run_id, 'all' AS selection, metric, meas, pred, ape FROM pred_long
                    UNION ALL
                    SELECT run_id, 'lowest', metric, meas, pred, ape FROM pred_long
                    WHERE is_lowest = 1
                    UNION ALL
                    SELECT run_id, 'highest', metric, meas, pred, ape FROM pred_long
                    WHERE is_highest = 1
                )
            )
        )
        WINDOW w AS (PARTITION BY run_id, selection, metric)
    )
    WINDOW w AS (PARTITION BY run_id, selection, metric)
)
WHERE rn = 1;

-- }===================================================================

-- {===================================================================
-- Experiment metrics (from cache_point_sums)
-- ====================================================================

-- point_sums: cache_point_sums of 'ok' runs with the run's identity and the
-- load point's flags; runaway = 1 when mean predicted E2E > 3 x mean
-- measured E2E at that point.
CREATE VIEW point_sums AS
SELECT r.id AS run_id, r.config_id, r.hypothesis, r.label, r.seed, r.experiment_id,
       c.point, lp.name AS point_name, lp.is_lowest, lp.is_highest,
       coalesce(c.s_pred_e2e > 3 * c.s_meas_e2e, 0) AS runaway,
       c.n, c.n_rejected,
       c.n_ttft, c.s_ape_ttft, c.s_signed_ttft, c.s_abs_ttft, c.s_meas_ttft, c.s_pred_ttft,
       c.n_tpot, c.s_ape_tpot, c.s_signed_tpot, c.s_abs_tpot, c.s_meas_tpot, c.s_pred_tpot,
       c.n_e2e, c.s_ape_e2e, c.s_signed_e2e, c.s_abs_e2e, c.s_meas_e2e, c.s_pred_e2e
FROM cache_point_sums c
JOIN runs r ON r.id = c.run_id AND r.status = 'ok'
JOIN load_points lp ON lp.experiment_id = r.experiment_id AND lp.point = c.point;

-- exp_point_metrics: per run x load point: n (requests with an ok twin),
-- n_rejected, runaway, and per metric: n_X pairs, MAPE, mean measured, mean
-- predicted, APE of means, bias (mean signed error), MAE (ms).
CREATE VIEW exp_point_metrics AS
SELECT run_id, config_id, hypothesis, label, seed, experiment_id, point, point_name,
       is_lowest, is_highest, n, n_rejected, runaway,
       n_ttft, s_ape_ttft / n_ttft AS mape_ttft,
       s_meas_ttft / n_ttft AS mean_meas_ttft, s_pred_ttft / n_ttft AS mean_pred_ttft,
       abs(s_pred_ttft - s_meas_ttft) / s_meas_ttft AS ape_of_mean_ttft,
       s_signed_ttft / n_ttft AS bias_ttft, 1000.0 * s_abs_ttft / n_ttft AS mae_ttft_ms,
       n_tpot, s_ape_tpot / n_tpot AS mape_tpot,
       s_meas_tpot / n_tpot AS mean_meas_tpot, s_pred_tpot / n_tpot AS mean_pred_tpot,
       abs(s_pred_tpot - s_meas_tpot) / s_meas_tpot AS ape_of_mean_tpot,
       s_signed_tpot / n_tpot AS bias_tpot, 1000.0 * s_abs_tpot / n_tpot AS mae_tpot_ms,
       n_e2e, s_ape_e2e / n_e2e AS mape_e2e,
       s_meas_e2e / n_e2e AS mean_meas_e2e, s_pred_e2e / n_e2e AS mean_pred_e2e,
       abs(s_pred_e2e - s_meas_e2e) / s_meas_e2e AS ape_of_mean_e2e,
       s_signed_e2e / n_e2e AS bias_e2e, 1000.0 * s_abs_e2e / n_e2e AS mae_e2e_ms
FROM point_sums;

-- exp_metrics_sel: per selection ('all' | 'lowest' | 'highest') x run, the
-- experiment metrics over the selected load points with their requests
-- pooled (MAPE = mean APE over all selected pairs; APE of means over the
-- pooled means); n_points = load points covered, n_runaway = how many of
-- them are runaway.  Other columns as in exp_point_metrics.
CREATE VIEW exp_metrics_sel AS
SELECT selection, run_id, config_id, hypothesis, label, seed, experiment_id,
       n_points, n_runaway, n, n_rejected,
       n_ttft, s_ape_ttft / n_ttft AS mape_ttft,
       s_meas_ttft / n_ttft AS mean_meas_ttft, s_pred_ttft / n_ttft AS mean_pred_ttft,
       abs(s_pred_ttft - s_meas_ttft) / s_meas_ttft AS ape_of_mean_ttft,
       s_signed_ttft / n_ttft AS bias_ttft, 1000.0 * s_abs_ttft / n_ttft AS mae_ttft_ms,
       n_tpot, s_ape_tpot / n_tpot AS mape_tpot,
       s_meas_tpot / n_tpot AS mean_meas_tpot, s_pred_tpot / n_tpot AS mean_pred_tpot,
       abs(s_pred_tpot - s_meas_tpot) / s_meas_tpot AS ape_of_mean_tpot,
       s_signed_tpot / n_tpot AS bias_tpot, 1000.0 * s_abs_tpot / n_tpot AS mae_tpot_ms,
       n_e2e, s_ape_e2e / n_e2e AS mape_e2e,
       s_meas_e2e / n_e2e AS mean_meas_e2e, s_pred_e2e / n_e2e AS mean_pred_e2e,
       abs(s_pred_e2e - s_meas_e2e) / s_meas_e2e AS ape_of_mean_e2e,
       s_signed_e2e / n_e2e AS bias_e2e, 1000.0 * s_abs_e2e / n_e2e AS mae_e2e_ms
FROM (
    SELECT sel.selection, e.run_id, e.config_id, e.hypothesis, e.label, e.seed,
           e.experiment_id, count(*) AS n_points, sum(e.runaway) AS n_runaway,
           sum(e.n) AS n, sum(e.n_rejected) AS n_rejected,
           sum(e.n_ttft) AS n_ttft, sum(e.s_ape_ttft) AS s_ape_ttft,
           sum(e.s_signed_ttft) AS s_signed_ttft, sum(e.s_abs_ttft) AS s_abs_ttft,
           sum(e.s_meas_ttft) AS s_meas_ttft, sum(e.s_pred_ttft) AS s_pred_ttft,
           sum(e.n_tpot) AS n_tpot, sum(e.s_ape_tpot) AS s_ape_tpot,
           sum(e.s_signed_tpot) AS s_signed_tpot, sum(e.s_abs_tpot) AS s_abs_tpot,
           sum(e.s_meas_tpot) AS s_meas_tpot, sum(e.s_pred_tpot) AS s_pred_tpot,
           sum(e.n_e2e) AS n_e2e, sum(e.s_ape_e2e) AS s_ape_e2e,
           sum(e.s_signed_e2e) AS s_signed_e2e, sum(e.s_abs_e2e) AS s_abs_e2e,
           sum(e.s_meas_e2e) AS s_meas_e2e, sum(e.s_pred_e2e) AS s_pred_e2e
    FROM point_sums e
    JOIN (SELECT 'all' AS selection UNION ALL SELECT 'lowest' UNION ALL SELECT 'highest') sel
      ON sel.selection = 'all'
      OR (sel.selection = 'lowest' AND e.is_lowest = 1)
      OR (sel.selection = 'highest' AND e.is_highest = 1)
    GROUP BY sel.selection, e.run_id
);

-- exp_metrics: per run, over ALL its load points.
CREATE VIEW exp_metrics AS
SELECT run_id, config_id, hypothesis, label, seed, experiment_id, n_points, n_runaway,
       n, n_rejected,
       n_ttft, mape_ttft, mean_meas_ttft, mean_pred_ttft, ape_of_mean_ttft, bias_ttft, mae_ttft_ms,
       n_tpot, mape_tpot, mean_meas_tpot, mean_pred_tpot, ape_of_mean_tpot, bias_tpot, mae_tpot_ms,
       n_e2e, mape_e2e, mean_meas_e2e, mean_pred_e2e, ape_of_mean_e2e, bias_e2e, mae_e2e_ms
FROM exp_metrics_sel WHERE selection = 'all';

-- exp_metrics_lowest: per run, over its lowest load point (GuideLLM's
-- synchronous benchmark, the first inference-perf stage).
CREATE VIEW exp_metrics_lowest AS
SELECT run_id, config_id, hypothesis, label, seed, experiment_id, n_points, n_runaway,
       n, n_rejected,
       n_ttft, mape_ttft, mean_meas_ttft, mean_pred_ttft, ape_of_mean_ttft, bias_ttft, mae_ttft_ms,
       n_tpot, mape_tpot, mean_meas_tpot, mean_pred_tpot, ape_of_mean_tpot, bias_tpot, mae_tpot_ms,
       n_e2e, mape_e2e, mean_meas_e2e, mean_pred_e2e, ape_of_mean_e2e, bias_e2e, mae_e2e_ms
FROM exp_metrics_sel WHERE selection = 'lowest';

-- exp_metrics_highest: per run, over its "high QPS" point(s) (throughput,
-- highest constant rate, last stage), requests pooled.
CREATE VIEW exp_metrics_highest AS
SELECT run_id, config_id, hypothesis, label, seed, experiment_id, n_points, n_runaway,
       n, n_rejected,
       n_ttft, mape_ttft, mean_meas_ttft, mean_pred_ttft, ape_of_mean_ttft, bias_ttft, mae_ttft_ms,
       n_tpot, mape_tpot, mean_meas_tpot, mean_pred_tpot, ape_of_mean_tpot, bias_tpot, mae_tpot_ms,
       n_e2e, mape_e2e, mean_meas_e2e, mean_pred_e2e, ape_of_mean_e2e, bias_e2e, mae_e2e_ms
FROM exp_metrics_sel WHERE selection = 'highest';

-- }===================================================================

-- {===================================================================
-- Corpus and split metrics
-- ====================================================================

-- config_exp_metrics_sel: one row per selection x configuration x seed x
-- experiment.  Several 'ok' runs of one (config, experiment, seed) are
-- bit-identical by METHOD.md's determinism rule, so their metrics are
-- averaged (= any one of them); n_runs says how many there were.
CREATE VIEW config_exp_metrics_sel AS
SELECT selection, config_id, seed, experiment_id, count(*) AS n_runs,
       avg(n) AS n, max(n_runaway) AS n_runaway,
       avg(mape_ttft) AS mape_ttft, avg(ape_of_mean_ttft) AS ape_of_mean_ttft,
       avg(bias_ttft) AS bias_ttft, avg(mae_ttft_ms) AS mae_ttft_ms,
       avg(mape_tpot) AS mape_tpot, avg(ape_of_mean_tpot) AS ape_of_mean_tpot,
       avg(bias_tpot) AS bias_tpot, avg(mae_tpot_ms) AS mae_tpot_ms,
       avg(mape_e2e) AS mape_e2e, avg(ape_of_mean_e2e) AS ape_of_mean_e2e,
       avg(bias_e2e) AS bias_e2e, avg(mae_e2e_ms) AS mae_e2e_ms
FROM exp_metrics_sel
GROUP BY selection, config_id, seed, experiment_id;

-- config_metrics_sel: per selection x configuration x seed, the corpus
-- metrics: the UNWEIGHTED mean over experiments of each experiment number
-- (corpus MAPE = mean of experiment MAPEs; likewise APE of means, bias,
-- MAE); n_experiments = experiments averaged over (14 when complete),
-- n_runaway = runaway load points among them.
CREATE VIEW config_metrics_sel AS
SELECT selection, config_id, seed, count(*) AS n_experiments,
       sum(n_runaway) AS n_runaway,
       avg(mape_ttft) AS mape_ttft, avg(mape_tpot) AS mape_tpot, avg(mape_e2e) AS mape_e2e,
       avg(ape_of_mean_ttft) AS ape_of_mean_ttft, avg(ape_of_mean_tpot) AS ape_of_mean_tpot,
       avg(ape_of_mean_e2e) AS ape_of_mean_e2e,
       avg(bias_ttft) AS bias_ttft, avg(bias_tpot) AS bias_tpot, avg(bias_e2e) AS bias_e2e,
       avg(mae_ttft_ms) AS mae_ttft_ms, avg(mae_tpot_ms) AS mae_tpot_ms,
       avg(mae_e2e_ms) AS mae_e2e_ms
FROM config_exp_metrics_sel
GROUP BY selection, config_id, seed;

-- corpus_metrics_sel: config_metrics_sel labelled with the grid arms (table
-- arms) each configuration belongs to: one row per selection x
-- configuration x hypothesis x label x seed.
CREATE VIEW corpus_metrics_sel AS
SELECT m.selection, m.config_id, c.name AS config_name, a.hypothesis, a.label, m.seed,
       m.n_experiments, m.n_runaway,
       m.mape_ttft, m.mape_tpot, m.mape_e2e,
       m.ape_of_mean_ttft, m.ape_of_mean_tpot, m.ape_of_mean_e2e,
       m.bias_ttft, m.bias_tpot, m.bias_e2e,
       m.mae_ttft_ms, m.mae_tpot_ms, m.mae_e2e_ms
FROM config_metrics_sel m
JOIN arms a ON a.config_id = m.config_id
JOIN configs c ON c.id = m.config_id;

-- corpus_metrics: per configuration x hypothesis x label x seed, the
-- unweighted mean over experiments of the experiment metrics over all
-- load points.
CREATE VIEW corpus_metrics AS
SELECT config_id, config_name, hypothesis, label, seed, n_experiments, n_runaway,
       mape_ttft, mape_tpot, mape_e2e, ape_of_mean_ttft, ape_of_mean_tpot, ape_of_mean_e2e,
       bias_ttft, bias_tpot, bias_e2e, mae_ttft_ms, mae_tpot_ms, mae_e2e_ms
FROM corpus_metrics_sel WHERE selection = 'all';

-- corpus_metrics_lowest: the same over each experiment's lowest load point.
CREATE VIEW corpus_metrics_lowest AS
SELECT config_id, config_name, hypothesis, label, seed, n_experiments, n_runaway,
       mape_ttft, mape_tpot, mape_e2e, ape_of_mean_ttft, ape_of_mean_tpot, ape_of_mean_e2e,
       bias_ttft, bias_tpot, bias_e2e, mae_ttft_ms, mae_tpot_ms, mae_e2e_ms
FROM corpus_metrics_sel WHERE selection = 'lowest';

-- corpus_metrics_highest: the same over each experiment's "high QPS" points.
CREATE VIEW corpus_metrics_highest AS
SELECT config_id, config_name, hypothesis, label, seed, n_experiments, n_runaway,
       mape_ttft, mape_tpot, mape_e2e, ape_of_mean_ttft, ape_of_mean_tpot, ape_of_mean_e2e,
       bias_ttft, bias_tpot, bias_e2e, mae_ttft_ms, mae_tpot_ms, mae_e2e_ms
FROM corpus_metrics_sel WHERE selection = 'highest';

-- split_metrics_sel: per selection x configuration x seed x split seed x
-- role ('train' | 'held'): the unweighted mean over that role's experiments
-- (table splits) of the experiment metrics; n_experiments = how many of the
-- role's experiments have results (10 train / 4 held when complete).
CREATE VIEW split_metrics_sel AS
SELECT e.selection, e.config_id, e.seed, s.split_seed, s.role,
       count(*) AS n_experiments, sum(e.n_runaway) AS n_runaway,
       avg(e.mape_ttft) AS mape_ttft, avg(e.mape_tpot) AS mape_tpot, avg(e.mape_e2e) AS mape_e2e,
       avg(e.ape_of_mean_ttft) AS ape_of_mean_ttft, avg(e.ape_of_mean_tpot) AS ape_of_mean_tpot,
       avg(e.ape_of_mean_e2e) AS ape_of_mean_e2e,
       avg(e.bias_ttft) AS bias_ttft, avg(e.bias_tpot) AS bias_tpot, avg(e.bias_e2e) AS bias_e2e,
       avg(e.mae_ttft_ms) AS mae_ttft_ms, avg(e.mae_tpot_ms) AS mae_tpot_ms,
       avg(e.mae_e2e_ms) AS mae_e2e_ms
FROM config_exp_metrics_sel e
JOIN splits s ON s.experiment_id = e.experiment_id
GROUP BY e.selection, e.config_id, e.seed, s.split_seed, s.role;

-- split_metrics: split_metrics_sel over all load points.
CREATE VIEW split_metrics AS
SELECT config_id, seed, split_seed, role, n_experiments, n_runaway,
       mape_ttft, mape_tpot, mape_e2e, ape_of_mean_ttft, ape_of_mean_tpot, ape_of_mean_e2e,
       bias_ttft, bias_tpot, bias_e2e, mae_ttft_ms, mae_tpot_ms, mae_e2e_ms
FROM split_metrics_sel WHERE selection = 'all';

-- }===================================================================

-- {===================================================================
-- Percentile metrics (from cache_point_pctl, cache_sel_pctl)
-- ====================================================================

-- pctl_point_metrics: per run x load point x metric: n pairs, median and
-- P90 of per-request APE, measured and predicted P90 and P99 (s) and the
-- APE of those percentiles (ape_of_p90 = |pred_p90 - meas_p90| / meas_p90).
CREATE VIEW pctl_point_metrics AS
SELECT r.id AS run_id, r.config_id, r.hypothesis, r.label, r.seed, r.experiment_id,
       c.point, c.metric, c.n, c.ape_p50, c.ape_p90,
       c.meas_p90, c.pred_p90, abs(c.pred_p90 - c.meas_p90) / c.meas_p90 AS ape_of_p90,
       c.meas_p99, c.pred_p99, abs(c.pred_p99 - c.meas_p99) / c.meas_p99 AS ape_of_p99
FROM cache_point_pctl c
JOIN runs r ON r.id = c.run_id AND r.status = 'ok';

-- pctl_metrics_sel: the same per selection x run x metric, the selected
-- load points' requests pooled.
CREATE VIEW pctl_metrics_sel AS
SELECT c.selection, r.id AS run_id, r.config_id, r.hypothesis, r.label, r.seed,
       r.experiment_id, c.metric, c.n, c.ape_p50, c.ape_p90,
       c.meas_p90, c.pred_p90, abs(c.pred_p90 - c.meas_p90) / c.meas_p90 AS ape_of_p90,
       c.meas_p99, c.pred_p99, abs(c.pred_p99 - c.meas_p99) / c.meas_p99 AS ape_of_p99
FROM cache_sel_pctl c
JOIN runs r ON r.id = c.run_id AND r.status = 'ok';

-- pctl_metrics, pctl_metrics_lowest, pctl_metrics_highest: pctl_metrics_sel
-- for one selection.
CREATE VIEW pctl_metrics AS
SELECT run_id, config_id, hypothesis, label, seed, experiment_id, metric, n, ape_p50, ape_p90,
       meas_p90, pred_p90, ape_of_p90, meas_p99, pred_p99, ape_of_p99
FROM pctl_metrics_sel WHERE selection = 'all';
CREATE VIEW pctl_metrics_lowest AS
SELECT run_id, config_id, hypothesis, label, seed, experiment_id, metric, n, ape_p50, ape_p90,
       meas_p90, pred_p90, ape_of_p90, meas_p99, pred_p99, ape_of_p99
FROM pctl_metrics_sel WHERE selection = 'lowest';
CREATE VIEW pctl_metrics_highest AS
SELECT run_id, config_id, hypothesis, label, seed, experiment_id, metric, n, ape_p50, ape_p90,
       meas_p90, pred_p90, ape_of_p90, meas_p99, pred_p99, ape_of_p99
FROM pctl_metrics_sel WHERE selection = 'highest';

-- }===================================================================

-- criteria_summary: per hypothesis x criterion, the verdict inputs of
-- METHOD.md "Verdicts": n_rows, n_split_seeds (rows with a split seed),
-- value_median (median of value over the rows, percentile convention
-- above; for a criterion without splits, its value), threshold, op,
-- pass_median = (value_median op threshold), share_pass = share of rows
-- that passed, robust = (share_pass >= 0.9).
CREATE VIEW criteria_summary AS
SELECT hypothesis, criterion, n_rows, n_split_seeds,
       v_lo + f * (v_hi - v_lo) AS value_median, threshold, op,
       CASE op WHEN '<' THEN v_lo + f * (v_hi - v_lo) < threshold
               WHEN '<=' THEN v_lo + f * (v_hi - v_lo) <= threshold
               WHEN '>' THEN v_lo + f * (v_hi - v_lo) > threshold
               WHEN '>=' THEN v_lo + f * (v_hi - v_lo) >= threshold
               WHEN '=' THEN v_lo + f * (v_hi - v_lo) = threshold
               WHEN '!=' THEN v_lo + f * (v_hi - v_lo) != threshold END AS pass_median,
       share_pass, share_pass >= 0.9 AS robust
FROM (
    SELECT hypothesis, criterion, threshold, op, f,
           row_number() OVER w AS rn,
           count(*) OVER w AS n_rows,
           count(split_seed) OVER w AS n_split_seeds,
           avg(pass) OVER w AS share_pass,
           nth_value(value, i + 1) OVER wv AS v_lo,
           nth_value(value, max(min(i + 2, nv), 1)) OVER wv AS v_hi
    FROM (
        SELECT *, CAST((nv - 1) * 0.5 AS INTEGER) AS i,
                  (nv - 1) * 0.5 - CAST((nv - 1) * 0.5 AS INTEGER) AS f
        FROM (
            SELECT hypothesis, criterion, split_seed, value, threshold, op, pass,
                   count(value) OVER (PARTITION BY hypothesis, criterion) AS nv
            FROM criteria
        )
    )
    WINDOW w AS (PARTITION BY hypothesis, criterion),
           wv AS (w ORDER BY value IS NULL, value
                  ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
)
WHERE rn = 1;
