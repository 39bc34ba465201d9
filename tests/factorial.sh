#!/bin/sh
# tests/factorial.sh - issue 12's factorial ablation (tools/factorial.sh,
# experiments/FACTORIAL/*.sql), without the corpus:
#   - the shipped design is a 2^(14-6) fraction of resolution V or more: 256
#     distinct cells, every main-effect and two-factor-interaction column
#     balanced and orthogonal to every other one (none aliased), the all-off
#     baseline among the cells; a resolution IV fraction (a 4-letter word)
#     is caught by the same check;
#   - effects.sql recovers the effects of a hand-made 2^3 table, and the
#     split-seed percentiles of a hand-made set of split seeds;
#   - the generated verdict line reads its yes/no answers the right way.
# Ends with "factorial: N passed, N failed".
set -u
. tests/lib.sh
command -v sqlite3 >/dev/null || { echo "# skip: no sqlite3"; echo "factorial: 0 passed, 0 failed"; exit 0; }

# Columns of every main effect and two-factor interaction; prints
# "terms unbalanced non-orthogonal-pairs distinct-cells cells".
RES="WITH f AS (SELECT DISTINCT factor FROM factorial_design),
terms AS (SELECT factor AS term, factor AS f1, NULL AS f2 FROM f UNION ALL
          SELECT a.factor || ':' || b.factor, a.factor, b.factor FROM f a JOIN f b
          ON (length(a.factor), a.factor) < (length(b.factor), b.factor)),
col AS (SELECT t.term, d1.cell, d1.x * coalesce(d2.x, 1) AS x FROM terms t
        JOIN factorial_design d1 ON d1.factor = t.f1
        LEFT JOIN factorial_design d2 ON d2.factor = t.f2 AND d2.cell = d1.cell),
dot AS (SELECT a.term AS ta, b.term AS tb, sum(a.x * b.x) AS s FROM col a
        JOIN col b ON b.cell = a.cell AND a.term < b.term GROUP BY a.term, b.term)
SELECT (SELECT count(*) FROM terms),
       (SELECT count(*) FROM (SELECT term FROM col GROUP BY term HAVING sum(x) <> 0)),
       (SELECT count(*) FROM dot WHERE s <> 0),
       (SELECT count(DISTINCT p) FROM (SELECT group_concat(\"on\", '') AS p
            FROM (SELECT * FROM factorial_design ORDER BY cell, factor) GROUP BY cell)),
       (SELECT count(DISTINCT cell) FROM factorial_design);"

D="$T/d.db"
sh tools/factorial.sh design "$D" && ok || bad "design"
# 14 factors: 14 + 14*13/2 = 105 columns; 256 cells, all distinct; none
# unbalanced, no pair of the 105 columns with a non-zero dot product.
r=$(q "$D" "$RES")
[ "$r" = "105|0|0|256|256" ] && ok || bad "resolution V design: terms|unbalanced|aliased pairs|distinct|cells = $r"
[ "$(q "$D" "SELECT sum(\"on\") FROM factorial_design WHERE cell = 0")" = 0 ] && ok || bad "cell 0 is the all-off baseline"
[ "$(q "$D" "SELECT count(*) FROM factorial_factor WHERE word IS NOT NULL")" = 6 ] && ok || bad "6 generated factors"
# each generated factor is the parity of its word: H10 = H1+H2+H5+H7 mod 2
[ "$(q "$D" "SELECT count(*) FROM factorial_design g WHERE g.factor = 'H10' AND g.\"on\" <> (SELECT sum(\"on\") % 2 FROM factorial_design b WHERE b.cell = g.cell AND b.factor IN ('H1', 'H2', 'H5', 'H7'))")" = 0 ] && ok || bad "H10 = parity of its word"

# A 4-letter word H1 H2 H3 H9 (resolution IV): H1:H2 is aliased with H3:H9
# (both columns equal -x1 x2 x3 x9 x... = the same +-1 column up to sign).
sed 's/"word": \["H1", "H2", "H4", "H5", "H6"\]/"word": ["H1", "H2", "H3"]/' experiments/FACTORIAL/factors.json > "$T/iv.json"
grep -q '"word": \["H1", "H2", "H3"\]' "$T/iv.json" && ok || bad "resolution IV fixture not written"
D4="$T/d4.db"
sh tools/factorial.sh design "$D4" "$T/iv.json"
aliased=$(q "$D4" "$RES" | cut -d'|' -f3)
[ "${aliased:-0}" -ge 3 ] && ok || bad "resolution IV design not caught ($aliased aliased pairs)"
[ "$(q "$D4" "SELECT abs(sum(a.x * b.x * c.x * d.x)) FROM factorial_design a JOIN factorial_design b ON b.cell = a.cell AND b.factor = 'H2'
       JOIN factorial_design c ON c.cell = a.cell AND c.factor = 'H3' JOIN factorial_design d ON d.cell = a.cell AND d.factor = 'H9' WHERE a.factor = 'H1'")" = 256 ] && ok || bad "H1 H2 H3 H9 is a word of the IV fraction"

# effects.sql on a hand-made full 2^3 (A, B, C), y in standard order:
#   (- - -) 1  (+ - -) 3  (- + -) 2  (+ + -) 8
#   (- - +) 1  (+ - +) 3  (- + +) 2  (+ + +) 8
# By hand: A = (3+8+3+8)/4 - (1+2+1+2)/4 = 5.5 - 1.5 = 4;
#          B = (2+8+2+8)/4 - (1+3+1+3)/4 = 5 - 2 = 3;  C = 14/4 - 14/4 = 0;
#          AB = mean where A = B (1,8,1,8) - mean where A <> B (3,2,3,2) = 4.5 - 2.5 = 2;
#          AC = (1+2+3+8)/4 - (3+8+1+2)/4 = 0;  BC = 0 likewise.
# Held-out view: split seeds 1, 2, 3 with y times the seed, so A's effect is
# 4, 8, 12: nearest-rank 5th, 50th, 95th percentiles of 3 values = ranks
# ceil(0.15) = 1, ceil(1.5) = 2, ceil(2.85) = 3 -> 4, 8, 12.
E="$T/e.db"
q "$E" "CREATE TABLE factorial_design(cell INTEGER, factor TEXT, \"on\" INTEGER, x INTEGER);
        WITH RECURSIVE c(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM c WHERE n < 7),
        f(factor, bit) AS (VALUES ('A', 0), ('B', 1), ('C', 2))
        INSERT INTO factorial_design SELECT n, factor, (n >> bit) & 1, 2 * ((n >> bit) & 1) - 1 FROM c, f;
        CREATE TABLE factorial_y(cell INTEGER, view TEXT, split_seed INTEGER, metric TEXT, y REAL);
        INSERT INTO factorial_y SELECT column1, 'corpus', -1, 'e2e', column2 FROM
            (VALUES (0, 1), (1, 3), (2, 2), (3, 8), (4, 1), (5, 3), (6, 2), (7, 8));
        INSERT INTO factorial_y SELECT cell, 'held', s.v, metric, y * s.v FROM factorial_y, (SELECT 1 AS v UNION ALL SELECT 2 UNION ALL SELECT 3) s;"
sqlite3 -batch "$E" < experiments/FACTORIAL/effects.sql && ok || bad "effects.sql"
got=$(q "$E" "SELECT group_concat(term || '=' || effect, ' ') FROM (SELECT term, effect FROM factorial_effect_summary ORDER BY f2 IS NOT NULL, term)")
[ "$got" = "A=4.0 B=3.0 C=0.0 A:B=2.0 A:C=0.0 B:C=0.0" ] && ok || bad "2^3 effects by hand: $got"
[ "$(q "$E" "SELECT split_p05 || ' ' || split_p50 || ' ' || split_p95 || ' ' || n_splits || ' ' || n FROM factorial_effect_summary WHERE term = 'A'")" = "4.0 8.0 12.0 3 8" ] && ok || bad "split percentiles of A: $(q "$E" "SELECT * FROM factorial_effect_summary WHERE term = 'A'")"
[ "$(q "$E" "SELECT split_p50 FROM factorial_effect_summary WHERE term = 'A:B'")" = "4.0" ] && ok || bad "A:B's median over split seeds 2, 4, 6 is 4"

# The generated line: two stores with hand-made verdict rows.  H3 on E2E:
# alone -1.5 / -0.5 (lowers error on both: yes / yes), in the best company
# +0.2 / -0.1 (no / yes) -> on both kernel sets "alone only".
for k in 1 2; do
    q "$T/v$k.db" "CREATE TABLE factorial_verdict(factor TEXT, k INTEGER, metric TEXT, kernels TEXT, alone REAL, in_best INTEGER,
                       company REAL, effect REAL, split_p05 REAL, split_p95 REAL, n INTEGER);"
done
q "$T/v1.db" "INSERT INTO factorial_verdict VALUES ('H3', 3, 'e2e', 'set-a', -1.5, 1, 0.2, -0.7, -1.0, -0.3, 256)"
q "$T/v2.db" "INSERT INTO factorial_verdict VALUES ('H3', 3, 'e2e', 'set-b', -0.5, 0, -0.1, -0.2, -0.4, 0.1, 256)"
l=$(sh tools/factorial.sh line "$T/v1.db" "$T/v2.db" H3)
case $l in
*"holds alone? yes / yes (-1.50 / -0.50)"*"holds in the best company? no / yes (+0.20 / -0.10; on / off in the best cell)"*"holds on both kernel sets? alone only."*"Main effect -0.70 [-1.00, -0.30] / -0.20 [-0.40, +0.10]"*) ok ;;
*) bad "generated line: $l" ;;
esac
[ -z "$(sh tools/factorial.sh line "$T/v1.db" "$T/v2.db" H4)" ] && ok || bad "no line for a factor without rows"
# H6 changes nothing on set-b (-0.004 pp rounds to 0): that is not "holds".
q "$T/v1.db" "INSERT INTO factorial_verdict VALUES ('H6', 6, 'e2e', 'set-a', -2.0, 1, -1.0, -1.5, -2.0, -1.0, 256)"
q "$T/v2.db" "INSERT INTO factorial_verdict VALUES ('H6', 6, 'e2e', 'set-b', -0.004, 1, 0.0, 0.0, 0.0, 0.0, 256)"
case $(sh tools/factorial.sh line "$T/v1.db" "$T/v2.db" H6) in
*"holds alone? yes / no"*"holds in the best company? yes / no"*"holds on both kernel sets? no."*) ok ;;
*) bad "a zero change read as holding: $(sh tools/factorial.sh line "$T/v1.db" "$T/v2.db" H6)" ;;
esac
report factorial
