-- experiments/T1/tables.sql - tables FINDINGS.md shows for Tier 1 and (by "-- same-as: T1") the
-- exploratory T1x: table @tier@_cv (tier1_cv, tier1x_cv), imported from `tam calibrate --cross-validate`;
-- tools/findings.sh puts the hypothesis for @H@ and its table prefix for @tier@.

-- table: Held-out corpus MAPE (%) after the overfitting guard: median [min, max] over the calibration choices (single = each experiment as the one calibration trace; split = 10/4 over 21 split seeds)
WITH c AS (SELECT protocol, method, choice,
    100.0 * avg(CASE WHEN guard_reject = 1 THEN base_mape_e2e ELSE mape_e2e END) AS e2e,
    100.0 * avg(CASE WHEN guard_reject = 1 THEN base_mape_ttft ELSE mape_ttft END) AS ttft,
    100.0 * avg(CASE WHEN guard_reject = 1 THEN base_mape_tpot ELSE mape_tpot END) AS tpot,
    max(guard_reject) AS guarded
  FROM @tier@_cv GROUP BY protocol, method, choice),
r AS (SELECT c.*, row_number() OVER (PARTITION BY protocol, method ORDER BY e2e) AS rk,
    count(*) OVER (PARTITION BY protocol, method) AS n FROM c)
SELECT protocol, method, n AS choices,
  round(max(CASE WHEN rk = (n + 1) / 2 THEN e2e END), 1) AS e2e_median,
  round(min(e2e), 1) AS e2e_min, round(max(e2e), 1) AS e2e_max,
  round(avg(ttft), 1) AS ttft_mean, round(avg(tpot), 1) AS tpot_mean, sum(guarded) AS guard_fired
FROM r GROUP BY protocol, method ORDER BY protocol, method;

-- table: Single-trace protocol, residual method: each calibration trace's held-out corpus MAPE (%) and the fitted TPOT residual
SELECT choice AS calibration_exp, round(100.0 * avg(mape_e2e), 1) AS e2e_as_fitted,
  round(100.0 * avg(CASE WHEN guard_reject = 1 THEN base_mape_e2e ELSE mape_e2e END), 1) AS e2e_after_guard,
  max(guard_reject) AS guard, sum(stale) AS stale_held_out,
  printf('%.3g*out %+.3g*in %+.3g ms', max(tpot_a_ms), max(tpot_b_ms), max(tpot_d_ms)) AS tpot_residual
FROM @tier@_cv WHERE protocol = 'single' AND method = 'residual' GROUP BY choice ORDER BY CAST(choice AS INTEGER);
