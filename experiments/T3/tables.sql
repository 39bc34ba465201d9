-- experiments/T3/tables.sql - tables FINDINGS.md shows for Tier 3: tier3_points (one row per protocol x
-- choice x held-out load point) and tier3_fits (one row per fit), imported from
-- `tam calibrate --method tier3 --cross-validate`.  APE of means = |mean predicted / mean measured - 1|.

-- table: Held-out accuracy by protocol (%): medians over every held-out load point of the APE of means, the largest load-point E2E error, and the per-request E2E MAPE (median over the calibrations of the mean over their held-out experiments); "base" is the default preset itself on all 14 (nothing held out, nothing fitted), "all" the in-sample fit
WITH p AS (SELECT protocol, choice, experiment, CAST(n AS INTEGER) AS n,
    100.0 * abs(CAST(pred_e2e_s AS REAL) / CAST(meas_e2e_s AS REAL) - 1) AS e2e,
    100.0 * abs(CAST(pred_ttft_s AS REAL) / CAST(meas_ttft_s AS REAL) - 1) AS ttft,
    CASE WHEN meas_tpot_s <> '' AND pred_tpot_s <> '' THEN 100.0 * abs(CAST(pred_tpot_s AS REAL) / CAST(meas_tpot_s AS REAL) - 1) END AS tpot,
    CAST(mape_e2e AS REAL) AS mape FROM tier3_points),
r AS (SELECT protocol, e2e, ttft, tpot,
    row_number() OVER (PARTITION BY protocol ORDER BY e2e) AS re, row_number() OVER (PARTITION BY protocol ORDER BY ttft) AS rt,
    row_number() OVER (PARTITION BY protocol ORDER BY tpot IS NULL, tpot) AS rp,
    count(*) OVER (PARTITION BY protocol) AS n, count(tpot) OVER (PARTITION BY protocol) AS np FROM p),
m AS (SELECT protocol, choice, sum(n * mape) / sum(n) AS mape FROM p GROUP BY protocol, choice, experiment),
c AS (SELECT protocol, choice, 100.0 * avg(mape) AS v FROM m GROUP BY protocol, choice),
cr AS (SELECT protocol, v, row_number() OVER (PARTITION BY protocol ORDER BY v) AS rk, count(*) OVER (PARTITION BY protocol) AS n FROM c)
SELECT r.protocol, (SELECT count(DISTINCT choice) FROM tier3_points t WHERE t.protocol = r.protocol) AS calibrations,
  max(r.n) AS held_out_points,
  round(max(CASE WHEN re = (n + 1) / 2 THEN e2e END), 2) AS e2e_points_median,
  round(max(CASE WHEN rt = (n + 1) / 2 THEN ttft END), 2) AS ttft_points_median,
  round(max(CASE WHEN rp = (np + 1) / 2 THEN tpot END), 2) AS tpot_points_median,
  round(max(e2e), 1) AS e2e_worst_point,
  (SELECT round(max(CASE WHEN rk = (cr.n + 1) / 2 THEN v END), 2) FROM cr WHERE cr.protocol = r.protocol) AS e2e_request_mape
FROM r GROUP BY r.protocol
ORDER BY CASE r.protocol WHEN 'split' THEN 1 WHEN 'lofo' THEN 2 WHEN 'single' THEN 3 WHEN 'all' THEN 4 ELSE 5 END;

-- table: Beside the field's best published simulators (their own numbers, with their caveats): load-point APE-of-means medians (%); Tier 3's row is the 10/4 splits above
SELECT 'tam Tier 3, 10/4 splits (this project, held out)' AS simulator, 'the 14 corpus experiments, held out 4 at a time' AS experiments,
  (SELECT round(value, 1) FROM criteria WHERE hypothesis = 'T3' AND criterion = 'T3.e2e_points') AS e2e,
  (SELECT round(value, 1) FROM criteria WHERE hypothesis = 'T3' AND criterion = 'T3.ttft_points') AS ttft,
  (SELECT round(value, 1) FROM criteria WHERE hypothesis = 'T3' AND criterion = 'T3.tpot_points') AS tpot_or_itl
UNION ALL SELECT 'BLIS trained-physics (self-reported)', 'its own 15 experiments', 6.7, 17.6, 7.1
UNION ALL SELECT 'BLIS trained-physics on this corpus (issue 13)', '12 inference-perf experiments, 3 in its training data', 16.0, 17.6, 16.4
UNION ALL SELECT 'Vidur (independent study, whole-run E2E APE)', 'corpus experiment 1 only; above 1,000% where its scheduler differs from vLLM''s', 2.4, NULL, NULL;

-- table: 10/4 splits by family and by load (held-out load points): median APE of means (%); load = the point's measured mean TTFT over its experiment's lightest point's (light < 1.5x, loaded < 5x, saturated beyond: queueing shows in TTFT first)
WITH lo AS (SELECT experiment, min(CAST(meas_ttft_s AS REAL)) AS t0 FROM tier3_points WHERE protocol = 'base' GROUP BY experiment),
p AS (SELECT t.family AS grp, 100.0 * abs(CAST(pred_e2e_s AS REAL) / CAST(meas_e2e_s AS REAL) - 1) AS e2e,
    100.0 * abs(CAST(pred_ttft_s AS REAL) / CAST(meas_ttft_s AS REAL) - 1) AS ttft FROM tier3_points t WHERE t.protocol = 'split'
  UNION ALL
  SELECT CASE WHEN CAST(t.meas_ttft_s AS REAL) < 1.5 * lo.t0 THEN 'load: light' WHEN CAST(t.meas_ttft_s AS REAL) < 5 * lo.t0 THEN 'load: loaded' ELSE 'load: saturated' END,
    100.0 * abs(CAST(pred_e2e_s AS REAL) / CAST(meas_e2e_s AS REAL) - 1), 100.0 * abs(CAST(pred_ttft_s AS REAL) / CAST(meas_ttft_s AS REAL) - 1)
  FROM tier3_points t JOIN lo ON lo.experiment = t.experiment WHERE t.protocol = 'split'),
r AS (SELECT grp, e2e, ttft, row_number() OVER (PARTITION BY grp ORDER BY e2e) AS re, row_number() OVER (PARTITION BY grp ORDER BY ttft) AS rt,
    count(*) OVER (PARTITION BY grp) AS n FROM p)
SELECT grp AS family_or_load, max(n) AS held_out_points, round(max(CASE WHEN re = (n + 1) / 2 THEN e2e END), 2) AS e2e_median,
  round(max(e2e), 1) AS e2e_worst, round(max(CASE WHEN rt = (n + 1) / 2 THEN ttft END), 2) AS ttft_median
FROM r GROUP BY grp ORDER BY grp GLOB 'load:*', grp;

-- table: Fitted coefficients over the 21 split fits (median [min, max]) beside the prior (the default preset) and the physical bounds of the in-sample fit; fits in bounds
SELECT 'scale_weight_read' AS coefficient, printf('%.4g [%.4g, %.4g]', (SELECT v FROM (SELECT CAST(scale_weight_read AS REAL) AS v FROM tier3_fits WHERE protocol = 'split' ORDER BY v) LIMIT 1 OFFSET 10), min(CAST(scale_weight_read AS REAL)), max(CAST(scale_weight_read AS REAL))) AS split_fits, max(prior_scale_weight_read) AS prior, printf('[%.4g, %.4g]', max(CAST(lo_scale_weight_read AS REAL)), max(CAST(hi_scale_weight_read AS REAL))) AS bounds FROM tier3_fits WHERE protocol = 'split'
UNION ALL SELECT 'scale_compute', printf('%.4g [%.4g, %.4g]', (SELECT v FROM (SELECT CAST(scale_compute AS REAL) AS v FROM tier3_fits WHERE protocol = 'split' ORDER BY v) LIMIT 1 OFFSET 10), min(CAST(scale_compute AS REAL)), max(CAST(scale_compute AS REAL))), max(prior_scale_compute), printf('[%.4g, %.4g]', max(CAST(lo_scale_compute AS REAL)), max(CAST(hi_scale_compute AS REAL))) FROM tier3_fits WHERE protocol = 'split'
UNION ALL SELECT 'scale_kv_read', printf('%.4g [%.4g, %.4g]', (SELECT v FROM (SELECT CAST(scale_kv_read AS REAL) AS v FROM tier3_fits WHERE protocol = 'split' ORDER BY v) LIMIT 1 OFFSET 10), min(CAST(scale_kv_read AS REAL)), max(CAST(scale_kv_read AS REAL))), max(prior_scale_kv_read), printf('[%.4g, %.4g]', max(CAST(lo_scale_kv_read AS REAL)), max(CAST(hi_scale_kv_read AS REAL))) FROM tier3_fits WHERE protocol = 'split'
UNION ALL SELECT 'scale_allreduce', printf('%.4g [%.4g, %.4g]', (SELECT v FROM (SELECT CAST(scale_allreduce AS REAL) AS v FROM tier3_fits WHERE protocol = 'split' ORDER BY v) LIMIT 1 OFFSET 10), min(CAST(scale_allreduce AS REAL)), max(CAST(scale_allreduce AS REAL))), max(prior_scale_allreduce), printf('[%.4g, %.4g]', max(CAST(lo_scale_allreduce AS REAL)), max(CAST(hi_scale_allreduce AS REAL))) FROM tier3_fits WHERE protocol = 'split'
UNION ALL SELECT 'cpu_step_s', printf('%.4g [%.4g, %.4g]', (SELECT v FROM (SELECT CAST(cpu_step_s AS REAL) AS v FROM tier3_fits WHERE protocol = 'split' ORDER BY v) LIMIT 1 OFFSET 10), min(CAST(cpu_step_s AS REAL)), max(CAST(cpu_step_s AS REAL))), max(prior_cpu_step_s), printf('[%.4g, %.4g]', min(CAST(lo_cpu_step_s AS REAL)), min(CAST(hi_cpu_step_s AS REAL))) FROM tier3_fits WHERE protocol = 'split'
UNION ALL SELECT 'cpu_req_s', printf('%.4g [%.4g, %.4g]', (SELECT v FROM (SELECT CAST(cpu_req_s AS REAL) AS v FROM tier3_fits WHERE protocol = 'split' ORDER BY v) LIMIT 1 OFFSET 10), min(CAST(cpu_req_s AS REAL)), max(CAST(cpu_req_s AS REAL))), max(prior_cpu_req_s), printf('[%.4g, %.4g]', min(CAST(lo_cpu_req_s AS REAL)), min(CAST(hi_cpu_req_s AS REAL))) FROM tier3_fits WHERE protocol = 'split'
UNION ALL SELECT 'frontend_s', printf('%.4g [%.4g, %.4g]', (SELECT v FROM (SELECT CAST(frontend_s AS REAL) AS v FROM tier3_fits WHERE protocol = 'split' ORDER BY v) LIMIT 1 OFFSET 10), min(CAST(frontend_s AS REAL)), max(CAST(frontend_s AS REAL))), max(prior_frontend_s), printf('[%.4g, %.4g]', min(CAST(lo_frontend_s AS REAL)), min(CAST(hi_frontend_s AS REAL))) FROM tier3_fits WHERE protocol = 'split'
UNION ALL SELECT 'frontend_tok_s', printf('%.4g [%.4g, %.4g]', (SELECT v FROM (SELECT CAST(frontend_tok_s AS REAL) AS v FROM tier3_fits WHERE protocol = 'split' ORDER BY v) LIMIT 1 OFFSET 10), min(CAST(frontend_tok_s AS REAL)), max(CAST(frontend_tok_s AS REAL))), max(prior_frontend_tok_s), printf('[%.4g, %.4g]', min(CAST(lo_frontend_tok_s AS REAL)), min(CAST(hi_frontend_tok_s AS REAL))) FROM tier3_fits WHERE protocol = 'split'
UNION ALL SELECT 'fits in bounds (all protocols)', (SELECT sum(CAST(in_bounds AS INTEGER)) || ' of ' || count(*) FROM tier3_fits), NULL, NULL;

-- table: Each fit (protocol, choice): simulations, objective at the prior and at the fit, in bounds
SELECT protocol, choice, ntrain AS trained_on, iterations, sims AS simulations, printf('%.4g', CAST(objective_prior AS REAL)) AS objective_prior,
  printf('%.4g', CAST(objective AS REAL)) AS objective_fit, in_bounds
FROM tier3_fits ORDER BY CASE protocol WHEN 'split' THEN 1 WHEN 'lofo' THEN 2 WHEN 'single' THEN 3 ELSE 4 END, CAST(choice AS INTEGER), choice;
