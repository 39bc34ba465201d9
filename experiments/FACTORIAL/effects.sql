-- experiments/FACTORIAL/effects.sql - main effects and two-factor
-- interactions from a two-level design, by SQL alone.
-- Input:  factorial_design(cell, factor, on, x = +-1) (the design cells only)
--         factorial_y(cell, view, split_seed, metric, y): the response of each
--         design cell; view 'corpus' (split_seed -1: all 14 experiments) or
--         'held' (one row per split seed: its 4 held-out experiments).
-- Output: factorial_effect(term, f1, f2, view, split_seed, metric, n, effect):
--         effect = mean y where the term's column is +1 minus mean y where it
--         is -1 = 2/N sum x y over the N cells (a main effect's column is x of
--         its factor; an interaction's the product of its two factors' x);
--         n = cells with a response (the estimate stands only when n = N).
--         factorial_effect_summary: per term x metric, the corpus effect and
--         the held-out effect's split-seed distribution (nearest-rank 5th,
--         50th and 95th percentiles: rank ceil(p n) of n split seeds).
DROP TABLE IF EXISTS factorial_effect;
CREATE TABLE factorial_effect AS
WITH f AS (SELECT DISTINCT factor FROM factorial_design),
terms AS (SELECT factor AS term, factor AS f1, NULL AS f2 FROM f
          UNION ALL
          SELECT a.factor || ':' || b.factor, a.factor, b.factor FROM f a JOIN f b
          ON (length(a.factor), a.factor) < (length(b.factor), b.factor)),
col AS (SELECT t.term, t.f1, t.f2, d1.cell, d1.x * coalesce(d2.x, 1) AS x
        FROM terms t JOIN factorial_design d1 ON d1.factor = t.f1
        LEFT JOIN factorial_design d2 ON d2.factor = t.f2 AND d2.cell = d1.cell)
SELECT c.term, c.f1, c.f2, y.view, y.split_seed, y.metric, count(*) AS n,
       2.0 * sum(c.x * y.y) / count(*) AS effect
FROM col c JOIN factorial_y y ON y.cell = c.cell
GROUP BY c.term, y.view, y.split_seed, y.metric;

DROP TABLE IF EXISTS factorial_effect_summary;
CREATE TABLE factorial_effect_summary AS
WITH h AS (SELECT term, metric, effect,
                  row_number() OVER (PARTITION BY term, metric ORDER BY effect) AS rn,
                  count(*) OVER (PARTITION BY term, metric) AS cnt
           FROM factorial_effect WHERE view = 'held')
SELECT e.term, e.f1, e.f2, e.metric, e.n, e.effect,
       (SELECT h.effect FROM h WHERE h.term = e.term AND h.metric = e.metric AND h.rn = (5 * h.cnt + 99) / 100) AS split_p05,
       (SELECT h.effect FROM h WHERE h.term = e.term AND h.metric = e.metric AND h.rn = (50 * h.cnt + 99) / 100) AS split_p50,
       (SELECT h.effect FROM h WHERE h.term = e.term AND h.metric = e.metric AND h.rn = (95 * h.cnt + 99) / 100) AS split_p95,
       (SELECT max(h.cnt) FROM h WHERE h.term = e.term AND h.metric = e.metric) AS n_splits
FROM factorial_effect e WHERE e.view = 'corpus';
