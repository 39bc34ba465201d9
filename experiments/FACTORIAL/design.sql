-- experiments/FACTORIAL/design.sql - the factorial design, generated from
-- factors.json (tools/factorial.sh substitutes @FACTORS@ with its path).
-- factorial_factor: one row per factor in file order (k = 1..); a base factor
-- has a bit (its level in design cell n is bit `bit` of n), a generated one a
-- word (JSON array of base factors): it is on iff an odd number of them are
-- on.  factorial_design: cell x factor -> on (0/1) and x = 2 on - 1 (+-1).
DROP TABLE IF EXISTS factorial_factor;
CREATE TABLE factorial_factor AS
SELECT json_extract(f.value, '$.factor') AS factor, f.key + 1 AS k,
       json_extract(f.value, '$.bit') AS bit, json_extract(f.value, '$.word') AS word,
       json_extract(f.value, '$.metric') AS metric, json_extract(f.value, '$.delta') AS delta
FROM json_each(readfile('@FACTORS@'), '$.factors') f;

DROP TABLE IF EXISTS factorial_design;
CREATE TABLE factorial_design(cell INTEGER NOT NULL, factor TEXT NOT NULL,
    "on" INTEGER NOT NULL, x INTEGER NOT NULL, PRIMARY KEY (cell, factor)) WITHOUT ROWID;
WITH RECURSIVE c(n) AS (
    SELECT 0 UNION ALL SELECT n + 1 FROM c
    WHERE n + 1 < (1 << (SELECT count(*) FROM factorial_factor WHERE bit IS NOT NULL))),
base AS (SELECT c.n AS cell, f.factor, (c.n >> f.bit) & 1 AS v
         FROM c JOIN factorial_factor f ON f.bit IS NOT NULL),
gen AS (SELECT b.cell, f.factor, sum(b.v) % 2 AS v
        FROM factorial_factor f JOIN json_each(f.word) w JOIN base b ON b.factor = w.value
        WHERE f.word IS NOT NULL GROUP BY b.cell, f.factor)
INSERT INTO factorial_design
SELECT cell, factor, v, 2 * v - 1 FROM base UNION ALL SELECT cell, factor, v, 2 * v - 1 FROM gen;
