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

DROP VIEW IF EXISTS criteria_summary;
DROP VIEW IF EXISTS pctl_metrics_highest;
DROP VIEW IF EXISTS pctl_metrics_lowest;
DROP VIEW IF EXISTS pctl_metrics;
DROP VIEW IF EXISTS pctl_metrics_sel;
DROP VIEW IF EXISTS pctl_point_metrics;
DROP VIEW IF EXISTS pred_long;
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
DROP VIEW IF EXISTS exp_point_sums;
DROP VIEW IF EXISTS pred_ape;
DROP VIEW IF EXISTS run_info;

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

-- exp_point_sums: per run x load point, the sums every higher view is built
-- from (s_ape_X = sum of APE, s_signed_X, s_abs_X = sum |pred - meas| (s),
-- s_meas_X, s_pred_X (s), n_X = pairs), plus the runaway flag
-- (mean predicted E2E > 3 x mean measured E2E).  Sums, not means, so that
-- pooling several load points weights each request once.
CREATE VIEW exp_point_sums AS
SELECT run_id, config_id, hypothesis, label, seed, experiment_id, point,
       is_lowest, is_highest,
       count(*) AS n, sum(rejected) AS n_rejected,
       count(meas_ttft) AS n_ttft, sum(ape_ttft) AS s_ape_ttft,
       sum(signed_ttft) AS s_signed_ttft, sum(abs(pred_ttft - meas_ttft)) AS s_abs_ttft,
       sum(meas_ttft) AS s_meas_ttft, sum(pred_ttft) AS s_pred_ttft,
       count(meas_tpot) AS n_tpot, sum(ape_tpot) AS s_ape_tpot,
       sum(signed_tpot) AS s_signed_tpot, sum(abs(pred_tpot - meas_tpot)) AS s_abs_tpot,
       sum(meas_tpot) AS s_meas_tpot, sum(pred_tpot) AS s_pred_tpot,
       count(meas_e2e) AS n_e2e, sum(ape_e2e) AS s_ape_e2e,
       sum(signed_e2e) AS s_signed_e2e, sum(abs(pred_e2e - meas_e2e)) AS s_abs_e2e,
       sum(meas_e2e) AS s_meas_e2e, sum(pred_e2e) AS s_pred_e2e,
       coalesce(sum(pred_e2e) > 3 * sum(meas_e2e), 0) AS runaway
FROM pred_ape
GROUP BY run_id, point, config_id, hypothesis, label, seed, experiment_id,
         is_lowest, is_highest;

-- exp_point_metrics: per run x load point: n (paired requests), n_rejected,
-- per metric n_X, MAPE, mean measured, mean predicted, APE of means, mean
-- signed error (bias), mean absolute error (ms); runaway = 1 when mean
-- predicted E2E > 3 x mean measured E2E.
CREATE VIEW exp_point_metrics AS
SELECT run_id, config_id, hypothesis, label, seed, experiment_id, point,
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
FROM exp_point_sums;

-- exp_metrics_sel: per selection ('all' | 'lowest' | 'highest') x run: the
-- experiment-level metrics over the selected load points, requests pooled
-- (MAPE = mean APE over all the selected requests; APE of means over the
-- pooled means); n_points = load points covered, n_runaway = how many of
-- them are runaway.  Columns as in exp_point_metrics.
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
    FROM exp_point_sums e
    JOIN (SELECT 'all' AS selection UNION ALL SELECT 'lowest' UNION ALL SELECT 'highest') sel
      ON sel.selection = 'all'
      OR (sel.selection = 'lowest' AND e.is_lowest = 1)
      OR (sel.selection = 'highest' AND e.is_highest = 1)
    GROUP BY sel.selection, e.run_id, e.config_id, e.hypothesis, e.label, e.seed,
             e.experiment_id
);

-- exp_metrics: per run, over ALL its load points (exp_metrics_sel, 'all').
CREATE VIEW exp_metrics AS
SELECT run_id, config_id, hypothesis, label, seed, experiment_id, n_points, n_runaway,
       n, n_rejected,
       n_ttft, mape_ttft, mean_meas_ttft, mean_pred_ttft, ape_of_mean_ttft, bias_ttft, mae_ttft_ms,
       n_tpot, mape_tpot, mean_meas_tpot, mean_pred_tpot, ape_of_mean_tpot, bias_tpot, mae_tpot_ms,
       n_e2e, mape_e2e, mean_meas_e2e, mean_pred_e2e, ape_of_mean_e2e, bias_e2e, mae_e2e_ms
FROM exp_metrics_sel WHERE selection = 'all';

-- exp_metrics_lowest: per run, over its lowest load point(s) only
-- (synchronous benchmark / first inference-perf stage).
CREATE VIEW exp_metrics_lowest AS
SELECT run_id, config_id, hypothesis, label, seed, experiment_id, n_points, n_runaway,
       n, n_rejected,
       n_ttft, mape_ttft, mean_meas_ttft, mean_pred_ttft, ape_of_mean_ttft, bias_ttft, mae_ttft_ms,
       n_tpot, mape_tpot, mean_meas_tpot, mean_pred_tpot, ape_of_mean_tpot, bias_tpot, mae_tpot_ms,
       n_e2e, mape_e2e, mean_meas_e2e, mean_pred_e2e, ape_of_mean_e2e, bias_e2e, mae_e2e_ms
FROM exp_metrics_sel WHERE selection = 'lowest';

-- exp_metrics_highest: per run, over its "high QPS" point(s) only
-- (throughput, highest constant rate, last stage).
CREATE VIEW exp_metrics_highest AS
SELECT run_id, config_id, hypothesis, label, seed, experiment_id, n_points, n_runaway,
       n, n_rejected,
       n_ttft, mape_ttft, mean_meas_ttft, mean_pred_ttft, ape_of_mean_ttft, bias_ttft, mae_ttft_ms,
       n_tpot, mape_tpot, mean_meas_tpot, mean_pred_tpot, ape_of_mean_tpot, bias_tpot, mae_tpot_ms,
       n_e2e, mape_e2e, mean_meas_e2e, mean_pred_e2e, ape_of_mean_e2e, bias_e2e, mae_e2e_ms
FROM exp_metrics_sel WHERE selection = 'highest';

-- config_exp_metrics_sel: one row per selection x configuration x seed x
-- experiment.  Several 'ok' runs of the same (config, experiment, seed) are
-- bit-identical by METHOD.md's determinism rule, so their metrics are
-- averaged (= any one of them) and n_runs says how many there were.
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
-- metrics: the UNWEIGHTED mean over experiments of each experiment-level
-- number (corpus MAPE = mean of experiment MAPEs; likewise APE of means,
-- bias, MAE); n_experiments = experiments averaged over (check it is 14).
CREATE VIEW config_metrics_sel AS
SELECT selection, config_id, seed, count(*) AS n_experiments,
       sum(n_runaway) AS n_runaway,
       avg(mape_ttft) AS mape_ttft, avg(ape_of_mean_ttft) AS ape_of_mean_ttft,
       avg(bias_ttft) AS bias_ttft, avg(mae_ttft_ms) AS mae_ttft_ms,
       avg(mape_tpot) AS mape_tpot, avg(ape_of_mean_tpot) AS ape_of_mean_tpot,
       avg(bias_tpot) AS bias_tpot, avg(mae_tpot_ms) AS mae_tpot_ms,
       avg(mape_e2e) AS mape_e2e, avg(ape_of_mean_e2e) AS ape_of_mean_e2e,
       avg(bias_e2e) AS bias_e2e, avg(mae_e2e_ms) AS mae_e2e_ms
FROM config_exp_metrics_sel
GROUP BY selection, config_id, seed;

-- corpus_metrics_sel: config_metrics_sel labelled with the grid arms
-- (arms table) each configuration belongs to: one row per selection x
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
-- unweighted mean over experiments of experiment metrics over all load points.
CREATE VIEW corpus_metrics AS
SELECT config_id, config_name, hypothesis, label, seed, n_experiments, n_runaway,
       mape_ttft, mape_tpot, mape_e2e, ape_of_mean_ttft, ape_of_mean_tpot, ape_of_mean_e2e,
       bias_ttft, bias_tpot, bias_e2e, mae_ttft_ms, mae_tpot_ms, mae_e2e_ms
FROM corpus_metrics_sel WHERE selection = 'all';

-- corpus_metrics_lowest: the same over each experiment's lowest load point(s).
CREATE VIEW corpus_metrics_lowest AS
SELECT config_id, config_name, hypothesis, label, seed, n_experiments, n_runaway,
       mape_ttft, mape_tpot, mape_e2e, ape_of_mean_ttft, ape_of_mean_tpot, ape_of_mean_e2e,
       bias_ttft, bias_tpot, bias_e2e, mae_ttft_ms, mae_tpot_ms, mae_e2e_ms
FROM corpus_metrics_sel WHERE selection = 'lowest';

-- corpus_metrics_highest: the same over each experiment's "high QPS" point(s).
CREATE VIEW corpus_metrics_highest AS
SELECT config_id, config_name, hypothesis, label, seed, n_experiments, n_runaway,
       mape_ttft, mape_tpot, mape_e2e, ape_of_mean_ttft, ape_of_mean_tpot, ape_of_mean_e2e,
       bias_ttft, bias_tpot, bias_e2e, mae_ttft_ms, mae_tpot_ms, mae_e2e_ms
FROM corpus_metrics_sel WHERE selection = 'highest';

-- split_metrics_sel: per selection x configuration x seed x split seed x
-- role ('train' | 'held'): the unweighted mean over that role's experiments
-- (splits table) of the experiment metrics; n_experiments = how many of the
-- role's experiments have results (4 held / 10 train when complete).
CREATE VIEW split_metrics_sel AS
SELECT e.selection, e.config_id, e.seed, s.split_seed, s.role,
       count(*) AS n_experiments, sum(e.n_runaway) AS n_runaway,
       avg(e.mape_ttft) AS mape_ttft, avg(e.mape_tpot) AS mape_tpot, avg(e.mape_e2e) AS mape_e2e,
       avg(e.ape_of_mean_ttft) AS ape_of_mean_ttft, avg(e.ape_of_mean_tpot) AS ape_of_mean_tpot,
       avg(e.ape_of_mean_e2e) AS ape_of_mean_e2e,
       avg(e.bias_ttft) AS bias_ttft, avg(e.bias_tpot) AS bias_tpot, avg(e.bias_e2e) AS bias_e2e
FROM config_exp_metrics_sel e
JOIN splits s ON s.experiment_id = e.experiment_id
GROUP BY e.selection, e.config_id, e.seed, s.split_seed, s.role;

-- split_metrics: split_metrics_sel over all load points.
CREATE VIEW split_metrics AS
SELECT config_id, seed, split_seed, role, n_experiments, n_runaway,
       mape_ttft, mape_tpot, mape_e2e, ape_of_mean_ttft, ape_of_mean_tpot, ape_of_mean_e2e,
       bias_ttft, bias_tpot, bias_e2e
FROM split_metrics_sel WHERE selection = 'all';

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

-- Percentiles.  Convention (numpy's default, "linear", Hyndman-Fan type 7):
-- for n sorted values x[0..n-1] and quantile q, h = (n - 1) q,
-- P_q = x[floor h] + (h - floor h) (x[floor h + 1] - x[floor h]),
-- computed with row_number() windows.  Measured, predicted and APE
-- percentiles are over the same pairs (pairing rule above).
-- pctl_point_metrics: per run x load point x metric: n, median and P90 of
-- per-request APE; measured and predicted P90 and P99 latency (s) and
-- their APE (ape_of_p90 = |pred_p90 - meas_p90| / meas_p90, likewise P99).
CREATE VIEW pctl_point_metrics AS
WITH ranked AS (
    SELECT run_id, experiment_id, point, metric, meas, pred, ape,
           count(*) OVER w AS n,
           row_number() OVER (w ORDER BY ape) - 1 AS k_ape,
           row_number() OVER (w ORDER BY meas) - 1 AS k_meas,
           row_number() OVER (w ORDER BY pred) - 1 AS k_pred
    FROM pred_long
    WINDOW w AS (PARTITION BY run_id, point, metric)
), pos AS (
    SELECT *, CAST((n - 1) * 0.50 AS INTEGER) AS i50, (n - 1) * 0.50 - CAST((n - 1) * 0.50 AS INTEGER) AS f50,
              CAST((n - 1) * 0.90 AS INTEGER) AS i90, (n - 1) * 0.90 - CAST((n - 1) * 0.90 AS INTEGER) AS f90,
              CAST((n - 1) * 0.99 AS INTEGER) AS i99, (n - 1) * 0.99 - CAST((n - 1) * 0.99 AS INTEGER) AS f99
    FROM ranked
), q AS (
    SELECT run_id, experiment_id, point, metric, max(n) AS n,
           sum(CASE k_ape WHEN i50 THEN (1 - f50) * ape WHEN i50 + 1 THEN f50 * ape END) AS ape_p50,
           sum(CASE k_ape WHEN i90 THEN (1 - f90) * ape WHEN i90 + 1 THEN f90 * ape END) AS ape_p90,
           sum(CASE k_meas WHEN i90 THEN (1 - f90) * meas WHEN i90 + 1 THEN f90 * meas END) AS meas_p90,
           sum(CASE k_pred WHEN i90 THEN (1 - f90) * pred WHEN i90 + 1 THEN f90 * pred END) AS pred_p90,
           sum(CASE k_meas WHEN i99 THEN (1 - f99) * meas WHEN i99 + 1 THEN f99 * meas END) AS meas_p99,
           sum(CASE k_pred WHEN i99 THEN (1 - f99) * pred WHEN i99 + 1 THEN f99 * pred END) AS pred_p99
    FROM pos
    GROUP BY run_id, experiment_id, point, metric
)
SELECT run_id, experiment_id, point, metric, n, ape_p50, ape_p90,
       meas_p90, pred_p90, abs(pred_p90 - meas_p90) / meas_p90 AS ape_of_p90,
       meas_p99, pred_p99, abs(pred_p99 - meas_p99) / meas_p99 AS ape_of_p99
FROM q;

-- pctl_metrics_sel: the same per selection ('all' | 'lowest' | 'highest') x
-- run x metric, requests of the selected load points pooled.
CREATE VIEW pctl_metrics_sel AS
WITH sel AS (
    SELECT 'all' AS selection, * FROM pred_long
    UNION ALL SELECT 'lowest', * FROM pred_long WHERE is_lowest = 1
    UNION ALL SELECT 'highest', * FROM pred_long WHERE is_highest = 1
), ranked AS (
    SELECT selection, run_id, experiment_id, metric, meas, pred, ape,
           count(*) OVER w AS n,
           row_number() OVER (w ORDER BY ape) - 1 AS k_ape,
           row_number() OVER (w ORDER BY meas) - 1 AS k_meas,
           row_number() OVER (w ORDER BY pred) - 1 AS k_pred
    FROM sel
    WINDOW w AS (PARTITION BY selection, run_id, metric)
), pos AS (
    SELECT *, CAST((n - 1) * 0.50 AS INTEGER) AS i50, (n - 1) * 0.50 - CAST((n - 1) * 0.50 AS INTEGER) AS f50,
              CAST((n - 1) * 0.90 AS INTEGER) AS i90, (n - 1) * 0.90 - CAST((n - 1) * 0.90 AS INTEGER) AS f90,
              CAST((n - 1) * 0.99 AS INTEGER) AS i99, (n - 1) * 0.99 - CAST((n - 1) * 0.99 AS INTEGER) AS f99
    FROM ranked
), q AS (
    SELECT selection, run_id, experiment_id, metric, max(n) AS n,
           sum(CASE k_ape WHEN i50 THEN (1 - f50) * ape WHEN i50 + 1 THEN f50 * ape END) AS ape_p50,
           sum(CASE k_ape WHEN i90 THEN (1 - f90) * ape WHEN i90 + 1 THEN f90 * ape END) AS ape_p90,
           sum(CASE k_meas WHEN i90 THEN (1 - f90) * meas WHEN i90 + 1 THEN f90 * meas END) AS meas_p90,
           sum(CASE k_pred WHEN i90 THEN (1 - f90) * pred WHEN i90 + 1 THEN f90 * pred END) AS pred_p90,
           sum(CASE k_meas WHEN i99 THEN (1 - f99) * meas WHEN i99 + 1 THEN f99 * meas END) AS meas_p99,
           sum(CASE k_pred WHEN i99 THEN (1 - f99) * pred WHEN i99 + 1 THEN f99 * pred END) AS pred_p99
    FROM pos
    GROUP BY selection, run_id, experiment_id, metric
)
SELECT selection, run_id, experiment_id, metric, n, ape_p50, ape_p90,
       meas_p90, pred_p90, abs(pred_p90 - meas_p90) / meas_p90 AS ape_of_p90,
       meas_p99, pred_p99, abs(pred_p99 - meas_p99) / meas_p99 AS ape_of_p99
FROM q;

-- pctl_metrics / _lowest / _highest: pctl_metrics_sel for one selection.
CREATE VIEW pctl_metrics AS
SELECT run_id, experiment_id, metric, n, ape_p50, ape_p90, meas_p90, pred_p90, ape_of_p90,
       meas_p99, pred_p99, ape_of_p99
FROM pctl_metrics_sel WHERE selection = 'all';
CREATE VIEW pctl_metrics_lowest AS
SELECT run_id, experiment_id, metric, n, ape_p50, ape_p90, meas_p90, pred_p90, ape_of_p90,
       meas_p99, pred_p99, ape_of_p99
FROM pctl_metrics_sel WHERE selection = 'lowest';
CREATE VIEW pctl_metrics_highest AS
SELECT run_id, experiment_id, metric, n, ape_p50, ape_p90, meas_p90, pred_p90, ape_of_p90,
       meas_p99, pred_p99, ape_of_p99
FROM pctl_metrics_sel WHERE selection = 'highest';

-- criteria_summary: per hypothesis x criterion, the verdict inputs of
-- METHOD.md "Verdicts": n_rows, n_split_seeds (rows with a split seed),
-- value_median (median of value over the rows, same percentile convention;
-- for a criterion without splits it is the value itself), threshold, op,
-- pass_median = value_median op threshold, share_pass = share of rows that
-- passed, robust = share_pass >= 0.9.
CREATE VIEW criteria_summary AS
WITH ranked AS (
    SELECT hypothesis, criterion, split_seed, value, threshold, op, pass,
           count(value) OVER w AS nv,
           row_number() OVER (w ORDER BY value IS NULL, value) - 1 AS k
    FROM criteria
    WINDOW w AS (PARTITION BY hypothesis, criterion)
), pos AS (
    SELECT *, CAST((nv - 1) * 0.5 AS INTEGER) AS i50,
              (nv - 1) * 0.5 - CAST((nv - 1) * 0.5 AS INTEGER) AS f50
    FROM ranked
), q AS (
    SELECT hypothesis, criterion, count(*) AS n_rows, count(split_seed) AS n_split_seeds,
           sum(CASE WHEN nv > 0 AND k = i50 THEN (1 - f50) * value
                    WHEN nv > 0 AND k = i50 + 1 THEN f50 * value END) AS value_median,
           min(threshold) AS threshold, min(op) AS op,
           avg(pass) AS share_pass
    FROM pos
    GROUP BY hypothesis, criterion
)
SELECT hypothesis, criterion, n_rows, n_split_seeds, value_median, threshold, op,
       CASE op WHEN '<' THEN value_median < threshold
               WHEN '<=' THEN value_median <= threshold
               WHEN '>' THEN value_median > threshold
               WHEN '>=' THEN value_median >= threshold
               WHEN '=' THEN value_median = threshold
               WHEN '!=' THEN value_median != threshold END AS pass_median,
       share_pass, share_pass >= 0.9 AS robust
FROM q;
