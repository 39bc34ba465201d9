-- experiments/T0/tables.sql - tables FINDINGS.md shows for Tier 0 and (by "-- same-as: T0") the
-- exploratory T0x; tools/findings.sh puts the hypothesis for @H@ and its table prefix for @tier@.

-- table: The cumulative path, step by step (table @tier@_path; MAPE in % over all 14 experiments, all load points, mean of workload seeds)
SELECT step, hypothesis, kept, reason, round(100 * mape_ttft, 2) AS ttft_mape, round(100 * mape_tpot, 2) AS tpot_mape,
       round(100 * mape_e2e, 2) AS e2e_mape, config_hash
FROM @tier@_path ORDER BY step;

-- table: Baseline vs Tier 0 per experiment (E2E MAPE %, all load points)
SELECT e.number AS "#", e.family, e.tp,
       round(100 * avg(CASE WHEN a.label = 'baseline' THEN x.mape_e2e END), 2) AS baseline_e2e,
       round(100 * avg(CASE WHEN a.label = 'tier0' THEN x.mape_e2e END), 2) AS tier0_e2e,
       round(100 * avg(CASE WHEN a.label = 'baseline' THEN x.mape_ttft END), 2) AS baseline_ttft,
       round(100 * avg(CASE WHEN a.label = 'tier0' THEN x.mape_ttft END), 2) AS tier0_ttft,
       round(100 * avg(CASE WHEN a.label = 'baseline' THEN x.mape_tpot END), 2) AS baseline_tpot,
       round(100 * avg(CASE WHEN a.label = 'tier0' THEN x.mape_tpot END), 2) AS tier0_tpot
FROM config_exp_metrics_sel x JOIN arms a ON a.config_id = x.config_id AND a.hypothesis = '@H@'
JOIN experiments e ON e.id = x.experiment_id WHERE x.selection = 'all' GROUP BY e.id ORDER BY e.number;

-- table: Baseline vs Tier 0 per load point (E2E MAPE %, workload seed 42; runaway = mean predicted E2E > 3x measured)
SELECT e.number AS "#", lp.name AS load_point,
       round(100 * max(CASE WHEN a.label = 'baseline' THEN p.mape_e2e END), 2) AS baseline_e2e,
       round(100 * max(CASE WHEN a.label = 'tier0' THEN p.mape_e2e END), 2) AS tier0_e2e,
       max(CASE WHEN a.label = 'tier0' THEN p.runaway END) AS tier0_runaway
FROM exp_point_metrics p JOIN arms a ON a.config_id = p.config_id AND a.hypothesis = '@H@'
JOIN experiments e ON e.id = p.experiment_id
JOIN load_points lp ON lp.experiment_id = p.experiment_id AND lp.point = p.point
WHERE p.seed = 42 GROUP BY e.id, p.point ORDER BY e.number, p.point;
