-- experiments/H10/tables.sql - tables FINDINGS.md shows for H10 (see tools/findings.sh).

-- table: Corpus MAPE (%) per arm, all load points, mean over workload seeds
SELECT label AS arm, count(*) AS seeds, round(100 * avg(mape_ttft), 2) AS ttft_mape, round(100 * avg(mape_tpot), 2) AS tpot_mape, round(100 * avg(mape_e2e), 2) AS e2e_mape, round(100 * avg(bias_e2e), 2) AS e2e_bias, max(n_runaway) AS runaway_points FROM corpus_metrics WHERE hypothesis = 'H10' GROUP BY label ORDER BY label;

-- table: E2E MAPE (%) per experiment, baseline vs allreduce_vllm
SELECT e.number AS "#", e.family, e.tp, e.attention, round(100 * avg(CASE WHEN a.label = 'baseline' THEN x.mape_e2e END), 2) AS baseline, round(100 * avg(CASE WHEN a.label = 'allreduce_vllm' THEN x.mape_e2e END), 2) AS "allreduce_vllm", round(100 * (avg(CASE WHEN a.label = 'baseline' THEN x.mape_e2e END) - avg(CASE WHEN a.label = 'allreduce_vllm' THEN x.mape_e2e END)), 2) AS gain_pp FROM config_exp_metrics_sel x JOIN arms a ON a.config_id = x.config_id AND a.hypothesis = 'H10' JOIN experiments e ON e.id = x.experiment_id WHERE x.selection = 'all' GROUP BY e.id ORDER BY e.number;
