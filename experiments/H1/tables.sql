-- experiments/H1/tables.sql - the tables FINDINGS.md shows for H1.
-- Each block starts with "-- table: TITLE"; tools/findings.sh prints the title,
-- the query itself and its result.  MAPE values in percent.

-- table: Corpus MAPE (%) per arm, all load points, mean over workload seeds
SELECT label AS arm, count(*) AS seeds, round(100 * avg(mape_ttft), 2) AS ttft_mape,
       round(100 * avg(mape_tpot), 2) AS tpot_mape, round(100 * avg(mape_e2e), 2) AS e2e_mape,
       round(100 * avg(bias_tpot), 2) AS tpot_bias, max(n_runaway) AS runaway_points
FROM corpus_metrics WHERE hypothesis = 'H1' GROUP BY label ORDER BY label;

-- table: Corpus MAPE (%) per arm at each experiment's lowest load point
SELECT label AS arm, round(100 * avg(mape_ttft), 2) AS ttft_mape,
       round(100 * avg(mape_tpot), 2) AS tpot_mape, round(100 * avg(mape_e2e), 2) AS e2e_mape
FROM corpus_metrics_lowest WHERE hypothesis = 'H1' GROUP BY label ORDER BY label;

-- table: TPOT MAPE (%) per experiment (all load points), baseline vs eta=0.80
SELECT e.number AS "#", e.family, e.tp, e.heavy,
       round(100 * avg(CASE WHEN a.label = 'baseline' THEN x.mape_tpot END), 2) AS baseline,
       round(100 * avg(CASE WHEN a.label = 'eta=0.80' THEN x.mape_tpot END), 2) AS "eta=0.80",
       round(100 * avg(CASE WHEN a.label = 'eta=0.82' THEN x.mape_tpot END), 2) AS "eta=0.82",
       round(100 * avg(CASE WHEN a.label = 'baseline' THEN x.bias_tpot END), 2) AS baseline_bias
FROM config_exp_metrics_sel x JOIN arms a ON a.config_id = x.config_id AND a.hypothesis = 'H1'
JOIN experiments e ON e.id = x.experiment_id
WHERE x.selection = 'all' GROUP BY e.id ORDER BY e.number;

-- table: TPOT MAPE gain (pp, eta=0.80) by workload type, tensor parallelism and family
SELECT 'heavy=' || heavy AS stratum, count(*) AS experiments, round(avg(gain), 2) AS mean_gain_pp FROM (
  SELECT e.heavy, e.tp, e.family, 100 * (avg(CASE WHEN a.label = 'baseline' THEN x.mape_tpot END)
         - avg(CASE WHEN a.label = 'eta=0.80' THEN x.mape_tpot END)) AS gain
  FROM config_exp_metrics_sel x JOIN arms a ON a.config_id = x.config_id AND a.hypothesis = 'H1'
  JOIN experiments e ON e.id = x.experiment_id WHERE x.selection = 'all' GROUP BY e.id)
GROUP BY heavy
UNION ALL
SELECT 'tp=' || tp, count(*), round(avg(gain), 2) FROM (
  SELECT e.tp, 100 * (avg(CASE WHEN a.label = 'baseline' THEN x.mape_tpot END)
         - avg(CASE WHEN a.label = 'eta=0.80' THEN x.mape_tpot END)) AS gain
  FROM config_exp_metrics_sel x JOIN arms a ON a.config_id = x.config_id AND a.hypothesis = 'H1'
  JOIN experiments e ON e.id = x.experiment_id WHERE x.selection = 'all' GROUP BY e.id)
GROUP BY tp
UNION ALL
SELECT 'family=' || family, count(*), round(avg(gain), 2) FROM (
  SELECT e.family, 100 * (avg(CASE WHEN a.label = 'baseline' THEN x.mape_tpot END)
         - avg(CASE WHEN a.label = 'eta=0.80' THEN x.mape_tpot END)) AS gain
  FROM config_exp_metrics_sel x JOIN arms a ON a.config_id = x.config_id AND a.hypothesis = 'H1'
  JOIN experiments e ON e.id = x.experiment_id WHERE x.selection = 'all' GROUP BY e.id)
GROUP BY family;

-- table: Runaway load points (mean predicted E2E > 3x measured), baseline, seed 42
SELECT e.number AS "#", p.experiment_id, p.point, lp.name, round(p.mean_meas_e2e, 2) AS meas_e2e_s,
       round(p.mean_pred_e2e, 2) AS pred_e2e_s
FROM exp_point_metrics p JOIN experiments e ON e.id = p.experiment_id
JOIN load_points lp ON lp.experiment_id = p.experiment_id AND lp.point = p.point
JOIN arms a ON a.config_id = p.config_id AND a.hypothesis = 'H1' AND a.label = 'baseline'
WHERE p.seed = 42 AND p.runaway = 1
ORDER BY e.number, p.point;
