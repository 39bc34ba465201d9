-- experiments/H2/tables.sql - tables FINDINGS.md shows for H2 (see tools/findings.sh).

-- table: Chosen constant overhead over the 21 split seeds (selection: train TPOT MAPE, lowest load point)
WITH sw AS (SELECT m.split_seed, a.label, m.mape_tpot FROM split_metrics_sel m
  JOIN arms a ON a.config_id = m.config_id AND a.hypothesis = 'H2'
  WHERE m.selection = 'lowest' AND m.role = 'train' AND m.seed = 42 AND a.label LIKE 'flat=%'),
best AS (SELECT split_seed, label FROM (SELECT split_seed, label,
  row_number() OVER (PARTITION BY split_seed ORDER BY mape_tpot, label) AS rn FROM sw) WHERE rn = 1)
SELECT label AS chosen, count(*) AS split_seeds FROM best GROUP BY label ORDER BY count(*) DESC, label;

-- table: Held-out result per split seed (pp; gain = baseline - chosen; worsening = chosen - baseline)
WITH sw AS (SELECT m.split_seed, a.label, m.mape_tpot FROM split_metrics_sel m
  JOIN arms a ON a.config_id = m.config_id AND a.hypothesis = 'H2'
  WHERE m.selection = 'lowest' AND m.role = 'train' AND m.seed = 42 AND a.label LIKE 'flat=%'),
best AS (SELECT split_seed, label FROM (SELECT split_seed, label,
  row_number() OVER (PARTITION BY split_seed ORDER BY mape_tpot, label) AS rn FROM sw) WHERE rn = 1),
held AS (SELECT m.split_seed, a.label, m.mape_tpot, m.mape_ttft FROM split_metrics_sel m
  JOIN arms a ON a.config_id = m.config_id AND a.hypothesis = 'H2'
  WHERE m.selection = 'all' AND m.role = 'held' AND m.seed = 42)
SELECT b.split_seed, b.label AS chosen,
  (SELECT group_concat(e.number, ',') FROM splits s JOIN experiments e ON e.id = s.experiment_id
    WHERE s.split_seed = b.split_seed AND s.role = 'held') AS held_out,
  round(100 * (hb.mape_tpot - hc.mape_tpot), 2) AS tpot_gain_pp,
  round(100 * (hc.mape_ttft - hb.mape_ttft), 2) AS ttft_worsening_pp
FROM best b JOIN held hc ON hc.split_seed = b.split_seed AND hc.label = b.label
JOIN held hb ON hb.split_seed = b.split_seed AND hb.label = 'baseline' ORDER BY b.split_seed;

-- table: Corpus MAPE (%) along the sweep, workload seed 42 (all 14 experiments)
SELECT a.label AS arm, round(1000 * json_extract(c.canonical_json, '$.overhead_decode_s'), 3) AS o_dec_ms,
  round(1000 * json_extract(c.canonical_json, '$.overhead_prefill_s'), 3) AS o_pre_ms,
  round(100 * lo.mape_tpot, 2) AS tpot_lowest, round(100 * lo.mape_ttft, 2) AS ttft_lowest,
  round(100 * al.mape_tpot, 2) AS tpot_all, round(100 * al.mape_ttft, 2) AS ttft_all,
  round(100 * al.mape_e2e, 2) AS e2e_all, al.n_runaway AS runaway_points
FROM arms a JOIN configs c ON c.id = a.config_id
JOIN corpus_metrics_lowest lo ON lo.config_id = a.config_id AND lo.hypothesis = 'H2' AND lo.label = a.label AND lo.seed = 42
JOIN corpus_metrics al ON al.config_id = a.config_id AND al.hypothesis = 'H2' AND al.label = a.label AND al.seed = 42
WHERE a.hypothesis = 'H2' ORDER BY o_dec_ms, o_pre_ms;

-- table: Finer sweep, 0.1 ms steps (a separate result, hypothesis id H2fine): canonical split (seed 42), train TPOT MAPE at the lowest load point and held-out MAPE
SELECT a.label AS arm, round(100 * tr.mape_tpot, 3) AS train_tpot_lowest,
  round(100 * he.mape_tpot, 2) AS held_tpot_all, round(100 * he.mape_ttft, 2) AS held_ttft_all
FROM arms a
JOIN split_metrics_sel tr ON tr.config_id = a.config_id AND tr.selection = 'lowest' AND tr.role = 'train' AND tr.split_seed = 42 AND tr.seed = 42
JOIN split_metrics_sel he ON he.config_id = a.config_id AND he.selection = 'all' AND he.role = 'held' AND he.split_seed = 42 AND he.seed = 42
WHERE a.hypothesis = 'H2fine' ORDER BY a.label;
