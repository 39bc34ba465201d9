-- experiments/T2/tables.sql - tables FINDINGS.md shows for Tier 2: table tier2_cv (tools/tier2.sh)
-- against Tier 1's tier1_cv, the same cross-validation without the measurements.

-- table: Tier 1 against Tier 2's arms: held-out corpus E2E MAPE (%) after the guard, median [min, max] over the calibration choices (single = each experiment as the one calibration trace; split = 10/4 over 21 split seeds)
WITH u AS (SELECT 'none (Tier 1)' AS arm, protocol, method, choice, guard_reject, mape_e2e, base_mape_e2e FROM tier1_cv
           UNION ALL SELECT arm, protocol, method, choice, guard_reject, mape_e2e, base_mape_e2e FROM tier2_cv),
c AS (SELECT arm, protocol, method, choice,
    100.0 * avg(CASE WHEN guard_reject = 1 THEN base_mape_e2e ELSE mape_e2e END) AS e2e
  FROM u GROUP BY arm, protocol, method, choice),
r AS (SELECT c.*, row_number() OVER (PARTITION BY arm, protocol, method ORDER BY e2e) AS rk,
    count(*) OVER (PARTITION BY arm, protocol, method) AS n FROM c)
SELECT protocol, method, arm, n AS choices,
  round(max(CASE WHEN rk = (n + 1) / 2 THEN e2e END), 1) AS e2e_median,
  round(min(e2e), 1) AS e2e_min, round(max(e2e), 1) AS e2e_max
FROM r GROUP BY protocol, method, arm ORDER BY protocol, method, arm;

-- table: Single-trace protocol, residual method: each calibration trace's held-out corpus E2E MAPE (%) after the guard, Tier 1 and each Tier 2 arm
SELECT t.choice AS calibration_exp,
  round(100.0 * avg(CASE WHEN t.guard_reject = 1 THEN t.base_mape_e2e ELSE t.mape_e2e END), 1) AS tier1,
  (SELECT round(100.0 * avg(CASE WHEN guard_reject = 1 THEN base_mape_e2e ELSE mape_e2e END), 1) FROM tier2_cv x
    WHERE x.arm = 'bw' AND x.protocol = 'single' AND x.method = 'residual' AND x.choice = t.choice) AS tier2_bw,
  (SELECT round(100.0 * avg(CASE WHEN guard_reject = 1 THEN base_mape_e2e ELSE mape_e2e END), 1) FROM tier2_cv x
    WHERE x.arm = 'gemm' AND x.protocol = 'single' AND x.method = 'residual' AND x.choice = t.choice) AS tier2_gemm,
  (SELECT round(100.0 * avg(CASE WHEN guard_reject = 1 THEN base_mape_e2e ELSE mape_e2e END), 1) FROM tier2_cv x
    WHERE x.arm = 'both' AND x.protocol = 'single' AND x.method = 'residual' AND x.choice = t.choice) AS tier2_both
FROM tier1_cv t WHERE t.protocol = 'single' AND t.method = 'residual' GROUP BY t.choice ORDER BY CAST(t.choice AS INTEGER);

-- table: What these numbers were computed from (table tier2_inputs, written by tools/tier2.sh)
SELECT json_extract(profile_json, '$.measured') AS measured, json_extract(profile_json, '$.bw_sequential') AS bw_sequential,
  json_extract(profile_json, '$.bw_paged_kv') AS bw_paged_kv, json_extract(profile_json, '$.hbm_bandwidth') AS hbm_bandwidth_datasheet,
  gemm_path, substr(gemm_sha256, 1, 16) AS gemm_sha256
FROM tier2_inputs;
