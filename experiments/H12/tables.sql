-- experiments/H12/tables.sql - tables FINDINGS.md shows for H12 (see tools/findings.sh).

-- table: Corpus MAPE (%) per arm, all load points, mean over workload seeds
SELECT label AS arm, count(*) AS seeds, round(100 * avg(mape_ttft), 2) AS ttft_mape, round(100 * avg(mape_tpot), 2) AS tpot_mape, round(100 * avg(mape_e2e), 2) AS e2e_mape, round(100 * avg(bias_ttft), 2) AS ttft_bias, round(100 * avg(bias_tpot), 2) AS tpot_bias, max(n_runaway) AS runaway_points FROM corpus_metrics WHERE hypothesis = 'H12' GROUP BY label ORDER BY label;

-- table: TTFT and TPOT MAPE (%) per experiment and arm
SELECT e.number AS "#", e.family, e.tp, round(100 * avg(CASE WHEN a.label = 'baseline' THEN x.mape_ttft END), 2) AS "ttft baseline", round(100 * avg(CASE WHEN a.label = 'cpu' THEN x.mape_ttft END), 2) AS "ttft cpu", round(100 * avg(CASE WHEN a.label = 'baseline' THEN x.mape_tpot END), 2) AS "tpot baseline", round(100 * avg(CASE WHEN a.label = 'cpu' THEN x.mape_tpot END), 2) AS "tpot cpu" FROM config_exp_metrics_sel x JOIN arms a ON a.config_id = x.config_id AND a.hypothesis = 'H12' JOIN experiments e ON e.id = x.experiment_id WHERE x.selection = 'all' GROUP BY e.id ORDER BY e.number;
