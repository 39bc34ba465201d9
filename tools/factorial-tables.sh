#!/bin/sh
# tools/factorial-tables.sh - the factorial's tables, figures and FINDINGS
# text, from the stores that tools/factorial.sh filled.
#
#   factorial-tables.sh DB KERNELS        effect tables in DB (factorial_y,
#                                         factorial_effect[_summary],
#                                         factorial_verdict, factorial_seed_check)
#   factorial-tables.sh line DB DB2 Hn    the line under Hn's verdict (both sets)
#   factorial-tables.sh section DB DB2    FINDINGS.md's section FACTORIAL and
#                                         its figures (plots/FACTORIAL-*.png)
#   factorial-tables.sh plots DB DB2      the figures alone
#
# Conventions: every number is corpus MAPE in percent over the 14 experiments
# (workload seed 42); an effect or change is MAPE with the term minus MAPE
# without it, in pp (negative = the term lowers the error).  "Holds" in the
# generated lines means the term lowers its hypothesis's primary metric by at
# least 0.01 pp
# (factors.json "metric"), a uniform reading, not the pre-registered
# thresholds, which the verdicts above apply.
set -eu
F=experiments/FACTORIAL
mode=$1
qq() { db=$1; shift; sqlite3 -batch -cmd '.timeout 600000' "$db" "$@"; }
qs() { db=$1; shift; sqlite3 -batch -separator ' ' -cmd '.timeout 600000' "$db" "$@"; }

tables() { # DB KERNELS
    DB=$1 K=$2
    qq "$DB" "DROP TABLE IF EXISTS factorial_y;
       CREATE TABLE factorial_y AS
       WITH cm AS (SELECT c.cell, m.experiment_id, m.mape_ttft, m.mape_tpot, m.mape_e2e
                   FROM factorial_cell c JOIN arms a ON a.hypothesis = 'FACTORIAL' AND a.label = c.label
                   JOIN configs g ON g.id = a.config_id AND json_extract(g.canonical_json, '\$.kernels') = '$K'
                   JOIN factorial_exp_metrics m ON m.config_id = a.config_id AND m.selection = 'all' AND m.seed = 42
                   WHERE c.kind = 'design'),
       v AS (SELECT cell, 'corpus' AS view, -1 AS split_seed, avg(mape_ttft) AS t, avg(mape_tpot) AS p, avg(mape_e2e) AS e
             FROM cm GROUP BY cell
             UNION ALL
             SELECT cm.cell, 'held', s.split_seed, avg(mape_ttft), avg(mape_tpot), avg(mape_e2e)
             FROM cm JOIN splits s ON s.experiment_id = cm.experiment_id AND s.role = 'held'
             GROUP BY cm.cell, s.split_seed)
       SELECT cell, view, split_seed, 'ttft' AS metric, 100 * t AS y FROM v
       UNION ALL SELECT cell, view, split_seed, 'tpot', 100 * p FROM v
       UNION ALL SELECT cell, view, split_seed, 'e2e', 100 * e FROM v;"
    qq "$DB" < $F/effects.sql
    # with/without pairs: alone = Hn alone vs the baseline; company = the
    # best cell vs the best cell with Hn switched.
    qq "$DB" "DROP TABLE IF EXISTS factorial_verdict;
       CREATE TABLE factorial_verdict AS
       WITH m AS (SELECT label, ttft, tpot, e2e FROM factorial_cell_metrics),
       val AS (SELECT label, 'ttft' AS metric, ttft AS v FROM m UNION ALL SELECT label, 'tpot', tpot FROM m
               UNION ALL SELECT label, 'e2e', e2e FROM m)
       SELECT f.factor, f.k, f.metric, '$K' AS kernels,
              (SELECT v FROM val WHERE label = 'ofat:' || f.factor AND metric = f.metric)
            - (SELECT v FROM val WHERE label = 'corner:off' AND metric = f.metric) AS alone,
              b.\"on\" AS in_best,
              CASE WHEN b.\"on\" = 1 THEN (SELECT v FROM val WHERE label = 'best' AND metric = f.metric)
                                        - (SELECT v FROM val WHERE label = 'toggle:' || f.factor AND metric = f.metric)
                   ELSE (SELECT v FROM val WHERE label = 'toggle:' || f.factor AND metric = f.metric)
                      - (SELECT v FROM val WHERE label = 'best' AND metric = f.metric) END AS company,
              s.effect, s.split_p05, s.split_p95, s.n
       FROM factorial_factor f
       JOIN factorial_level b ON b.label = 'best' AND b.factor = f.factor
       LEFT JOIN factorial_effect_summary s ON s.term = f.factor AND s.metric = f.metric;
       DROP TABLE IF EXISTS factorial_seed_check;
       CREATE TABLE factorial_seed_check AS
       SELECT count(DISTINCT r.seed) AS seeds, count(DISTINCT r.experiment_id) AS experiments,
              (SELECT count(*) FROM (SELECT r2.experiment_id, p.req_index FROM predictions p JOIN runs r2 ON r2.id = p.run_id
                    WHERE r2.config_id = a.config_id AND r2.status = 'ok'
                    GROUP BY r2.experiment_id, p.req_index
                    HAVING count(DISTINCT coalesce(p.ttft, -1)) > 1 OR count(DISTINCT coalesce(p.e2e, -1)) > 1)) AS requests_that_differ,
              (SELECT count(*) FROM predictions p JOIN runs r2 ON r2.id = p.run_id
                WHERE r2.config_id = a.config_id AND r2.status = 'ok') AS predictions
       FROM arms a JOIN runs r ON r.config_id = a.config_id AND r.status = 'ok'
       JOIN configs g ON g.id = a.config_id AND json_extract(g.canonical_json, '\$.kernels') = '$K'
       WHERE a.hypothesis = 'FACTORIAL' AND a.label = 'corner:on';"
    echo "factorial: $K: $(qq "$DB" "SELECT count(*) FROM factorial_cell_metrics") cells, effects from $(qq "$DB" "SELECT max(n) FROM factorial_effect_summary") design cells" >&2
}

line() { # DB DB2 Hn
    DB=$1 DB2=$2 h=$3
    for db in "$DB" "$DB2"; do
        [ -n "$db" ] && [ "$(qq "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'factorial_verdict'")" = 1 ] || return 0
        [ -n "$(qq "$db" "SELECT 1 FROM factorial_verdict WHERE factor = '$h'")" ] || return 0
    done
    v1=$(qq "$DB" "SELECT printf('%s|%s|%.2f|%.2f|%.2f|%.2f|%.2f|%d', kernels, upper(metric), alone, company, effect, split_p05, split_p95, in_best) FROM factorial_verdict WHERE factor = '$h'")
    v2=$(qq "$DB2" "SELECT printf('%s|%s|%.2f|%.2f|%.2f|%.2f|%.2f|%d', kernels, upper(metric), alone, company, effect, split_p05, split_p95, in_best) FROM factorial_verdict WHERE factor = '$h'")
    echo "$v1|$v2" | awk -F'|' -v h="$h" '
        function yn(x) { return x <= -0.01 ? "yes" : "no" }   # lowers it by 0.01 pp or more
        {   a1 = yn($3); a2 = yn($11); c1 = yn($4); c2 = yn($12)
            both = (a1 == "yes" && a2 == "yes" && c1 == "yes" && c2 == "yes") ? "yes" : \
                   ((a1 == "yes" && a2 == "yes") ? "alone only" : \
                   ((c1 == "yes" && c2 == "yes") ? "in the best company only" : "no"))
            printf "**Factorial** (section FACTORIAL; %s MAPE, change in pp when %s is added, %s / %s): " \
                   "holds alone? %s / %s (%+.2f / %+.2f); holds in the best company? %s / %s (%+.2f / %+.2f; %s / %s in the best cell); " \
                   "holds on both kernel sets? %s. Main effect %+.2f [%+.2f, %+.2f] / %+.2f [%+.2f, %+.2f] (held-out split seeds, 5th-95th).\n",
                   $2, h, $1, $9, a1, a2, $3, $11, c1, c2, $4, $12, ($8 ? "on" : "off"), ($16 ? "on" : "off"), both,
                   $5, $6, $7, $13, $14, $15 }'
}

# Query $1 as a table on each store that has the factorial, then the query.
per_set() {
    for db in "$DB" "$DB2"; do
        have "$db" || continue
        echo "On **$(qq "$db" "SELECT kernels FROM factorial_verdict LIMIT 1")**:"
        echo
        printf ".mode markdown\n%s\n" "$1" | qq "$db"
        echo
    done
    echo '```sql'
    echo "$1"
    echo '```'
}

section() { # DB DB2
    DB=$1 DB2=$2
    have() { [ -n "$1" ] && [ "$(qq "$1" "SELECT count(*) FROM sqlite_master WHERE name = 'factorial_effect_summary'")" = 1 ]; }
    echo
    echo "## FACTORIAL"
    echo
    echo "**Design.** $(qq "$DB" "SELECT json_extract(readfile('$F/factors.json'), '\$.statement')")"
    echo
    if ! have "$DB"; then
        echo "Not run yet: \`make factorial\`."
        return 0
    fi
    echo "$(qq "$DB" "SELECT json_extract(readfile('$F/factors.json'), '\$.comment')")"
    echo
    echo "Factors, their words (generated factors) and their levels (H2's as selected on \`$DB\`):"
    echo
    printf ".mode markdown --wrap 300\nSELECT f.factor, coalesce('bit ' || f.bit, 'word ' || replace(replace(replace(f.word, '[', ''), ']', ''), '\"', '')) AS generator, f.metric AS primary_metric, f.delta AS level_on FROM factorial_factor f ORDER BY f.k;\n" | qq "$DB"
    echo
    for db in "$DB" "$DB2"; do
        have "$db" || continue
        echo "H2's level (its selection on that store) on **$(qq "$db" "SELECT kernels FROM factorial_verdict LIMIT 1")**: \`$(qq "$db" "SELECT delta FROM factorial_factor WHERE factor = 'H2'")\`."
        echo
    done
    for db in "$DB" "$DB2"; do
        have "$db" || continue
        k=$(qq "$db" "SELECT kernels FROM factorial_verdict LIMIT 1")
        echo "On **$k** (\`$db\`): $(qq "$db" "SELECT count(*) FROM factorial_cell_metrics WHERE kind = 'design'") design cells, best cell \`$(qq "$db" "SELECT c.label FROM factorial_cell_metrics c JOIN factorial_cell_metrics b ON b.config_id = c.config_id AND b.label = 'best' WHERE c.label <> 'best' ORDER BY c.kind <> 'design', c.label LIMIT 1")\` (corpus MAPE $(qq "$db" "SELECT printf('%.1f%% TTFT, %.1f%% TPOT, %.1f%% E2E', ttft, tpot, e2e) FROM factorial_cell_metrics WHERE label = 'best'"); the baseline: $(qq "$db" "SELECT printf('%.1f%%, %.1f%%, %.1f%%', ttft, tpot, e2e) FROM factorial_cell_metrics WHERE label = 'corner:off'")), factors on in it: $(qq "$db" "SELECT group_concat(factor, ', ') FROM (SELECT factor FROM factorial_level l JOIN factorial_factor f USING (factor) WHERE l.label = 'best' AND l.\"on\" = 1 ORDER BY f.k)"). $(qq "$db" "SELECT count(*) FROM factorial_pruned") runs of design and toggle cells were kept as per-experiment metrics only (table \`factorial_exp_metrics\`; their runs are listed in \`factorial_pruned\`); every other cell is a whole stored run. Workload seeds: the all-on corner at seeds $(qq "$db" "SELECT group_concat(DISTINCT r.seed) FROM arms a JOIN runs r ON r.config_id = a.config_id WHERE a.hypothesis = 'FACTORIAL' AND a.label = 'corner:on'") gives $(qq "$db" "SELECT requests_that_differ || ' of ' || predictions || ' predictions' FROM factorial_seed_check") that differ between seeds, so a workload-seed interval is degenerate (zero width) and none is drawn."
        echo
    done
    echo "**Main effects** (pp of corpus MAPE when the term is added, averaged over the other factors' levels in the design;"
    echo "in brackets the 5th-95th percentile over the 21 split seeds of the same effect on the 4 held-out experiments):"
    echo
    MQ="SELECT f.factor,
       printf('%+.2f [%+.2f, %+.2f]', t.effect, t.split_p05, t.split_p95) AS ttft,
       printf('%+.2f [%+.2f, %+.2f]', p.effect, p.split_p05, p.split_p95) AS tpot,
       printf('%+.2f [%+.2f, %+.2f]', e.effect, e.split_p05, e.split_p95) AS e2e
FROM factorial_factor f
JOIN factorial_effect_summary t ON t.term = f.factor AND t.metric = 'ttft'
JOIN factorial_effect_summary p ON p.term = f.factor AND p.metric = 'tpot'
JOIN factorial_effect_summary e ON e.term = f.factor AND e.metric = 'e2e' ORDER BY f.k;"
    per_set "$MQ"
    echo
    echo "**The largest effects**, main effects and two-factor interactions by |corpus effect| on each metric:"
    echo
    LQ="SELECT metric, term, printf('%+.2f', effect) AS effect_pp, printf('[%+.2f, %+.2f]', split_p05, split_p95) AS held_out_5_95
FROM (SELECT *, row_number() OVER (PARTITION BY metric, f2 IS NULL ORDER BY abs(effect) DESC) AS rn FROM factorial_effect_summary)
WHERE rn <= 3 ORDER BY metric = 'e2e', metric = 'tpot', f2 IS NOT NULL, rn;"
    per_set "$LQ"
    echo
    plots "$DB" "$DB2"
    for png in plots/FACTORIAL-*.png; do
        [ -f "$png" ] || continue
        echo "![$(basename "$png" .png)]($png)"
        echo
    done
    echo "**Drop-one from the best cell** (each factor switched in the best cell; change in pp of corpus MAPE when the factor is added):"
    echo
    DQ="SELECT f.factor, CASE b.\"on\" WHEN 1 THEN 'on' ELSE 'off' END AS in_best,
       printf('%+.2f', CASE b.\"on\" WHEN 1 THEN x.ttft - t.ttft ELSE t.ttft - x.ttft END) AS ttft,
       printf('%+.2f', CASE b.\"on\" WHEN 1 THEN x.tpot - t.tpot ELSE t.tpot - x.tpot END) AS tpot,
       printf('%+.2f', CASE b.\"on\" WHEN 1 THEN x.e2e - t.e2e ELSE t.e2e - x.e2e END) AS e2e
FROM factorial_factor f JOIN factorial_level b ON b.label = 'best' AND b.factor = f.factor
JOIN factorial_cell_metrics x ON x.label = 'best' JOIN factorial_cell_metrics t ON t.label = 'toggle:' || f.factor ORDER BY f.k;"
    per_set "$DQ"
    echo
    echo "**The line under each hypothesis's verdict** reads, on each kernel set, the hypothesis's primary metric"
    echo "(column primary_metric above): *holds alone* = Hn alone lowers its corpus MAPE against the baseline"
    echo "(cells ofat:Hn and corner:off); *in the best company* = the best cell with Hn lowers it against the best cell"
    echo "without Hn (the drop-one table); *on both kernel sets* = both, on both sets. \"Lowers\" means by 0.01 pp or"
    echo "more: a uniform reading over the whole corpus, not the pre-registered thresholds the verdicts apply. A"
    echo "change of +0.00 is a term that does nothing in that company: H8 wherever H10 is on (H10's parameters stand),"
    echo "and terms the measured kernels make moot. The best cell was chosen on the same corpus it is scored on."
    echo
    echo "Every cell's corpus MAPE: \`SELECT * FROM factorial_cell_metrics ORDER BY (ttft + tpot + e2e) / 3;\`;"
    echo "every effect and interaction on every split seed: \`SELECT * FROM factorial_effect;\` (view 'corpus' or 'held');"
    echo "the design: \`SELECT * FROM factorial_design;\`; the generated lines under each hypothesis: \`SELECT * FROM factorial_verdict;\`."
}

plots() { # DB DB2 -> plots/FACTORIAL-effects.png, plots/FACTORIAL-interactions.png
    DB=$1 DB2=$2
    command -v gnuplot >/dev/null || { echo "factorial: no gnuplot, no figures" >&2; return 0; }
    mkdir -p plots
    T=$(mktemp -d)
    n=0
    for db in "$DB" "$DB2"; do
        [ -n "$db" ] && [ "$(qq "$db" "SELECT count(*) FROM sqlite_master WHERE name = 'factorial_effect_summary'")" = 1 ] || continue
        n=$((n + 1))
        qq "$db" "SELECT kernels FROM factorial_verdict LIMIT 1" > "$T/k$n"
        for m in ttft tpot e2e; do
            qs "$db" "SELECT f.k, s.effect, s.split_p05, s.split_p95 FROM factorial_factor f
                 JOIN factorial_effect_summary s ON s.term = f.factor AND s.metric = '$m' ORDER BY f.k" > "$T/e$n$m"
            # the heat map's colour range: +- the largest |interaction|
            qq "$db" "SELECT printf('%.0f', max(abs(effect)) + 0.5) FROM factorial_effect_summary WHERE metric = '$m' AND f2 IS NOT NULL" > "$T/r$n$m"
        done
        for m in ttft tpot e2e; do
            qs "$db" "SELECT a.k, b.k, coalesce((SELECT s.effect FROM factorial_effect_summary s
                 WHERE s.metric = '$m' AND ((s.f1 = a.factor AND s.f2 = b.factor) OR (s.f1 = b.factor AND s.f2 = a.factor))), 0)
                 FROM factorial_factor a JOIN factorial_factor b ORDER BY a.k, b.k" |
                awk 'NR > 1 && $1 != p { print "" } { print; p = $1 }' > "$T/i$n$m"
        done
    done
    [ $n -gt 0 ] || { rm -rf "$T"; return 0; }
    # One panel per kernel set x metric: main effects with their split-seed
    # bars, or the interaction heat map on a symmetric colour range.
    panels() {
        i=1
        while [ $i -le $n ]; do
            for m in ttft tpot e2e; do
                M=$(echo $m | tr a-z A-Z)
                if [ "$1" = effects ]; then
                    echo "set title '$(cat "$T/k$i"): main effects on $M MAPE'"
                    echo "plot '$T/e$i$m' using 1:2:3:4 with yerrorbars pt 7 lc rgb '#1f5fa8', 0 with lines lc rgb '#888888'"
                else
                    echo "set title '$(cat "$T/k$i"): interactions, $M (pp)'; set cbrange [-$(cat "$T/r$i$m"):$(cat "$T/r$i$m")]"
                    echo "plot '$T/i$i$m' using 1:2:3 with image"
                fi
            done
            i=$((i + 1))
        done
        echo "unset multiplot"
    }
    TICS="('H1' 1, 'H2' 2, 'H3' 3, 'H4' 4, 'H5' 5, 'H6' 6, 'H7' 7, 'H8' 8, 'H9' 9, 'H10' 10, 'H11' 11, 'H12' 12, 'H13' 13, 'H14' 14)"
    {
        echo "set terminal pngcairo size 1300,$((420 * n)) font ',10'"
        echo "set output 'plots/FACTORIAL-effects.png'"
        echo "set multiplot layout $n,3"
        echo "set grid ytics; set xrange [0.5:14.5]; set key off; set xtics $TICS"
        echo "set ylabel 'effect on corpus MAPE (pp)'; set bars small"
        panels effects
        echo "set output 'plots/FACTORIAL-interactions.png'"
        echo "set multiplot layout $n,3"
        echo "set palette defined (-1 '#2166ac', 0 '#f7f7f7', 1 '#b2182b'); set cblabel 'pp'"
        echo "set yrange [0.5:14.5]; set grid noytics; set ylabel ''; set size ratio 1; set ytics $TICS"
        panels interactions
    } > "$T/plot.gp"
    gnuplot "$T/plot.gp"
    rm -rf "$T"
}

case $mode in
line) line "$2" "${3:-}" "$4" ;;
section) section "$2" "${3:-}" ;;
plots) plots "$2" "${3:-}" ;;
*) tables "$1" "$2" ;;
esac
