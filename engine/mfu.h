/* engine/mfu.h - the measured kernel-efficiency (MFU) database and its lookups.
**
** Layout on disk (InferSim/BLIS CSV), under one directory such as
** ../shared/data/mfu/h100/:
**   gemm/data.csv                 m,k,n,latency_us,mfu
**   mha/decode/{H}-{K}-{hd}-tp{N}.csv   dtype,kv_dtype,batch_size,kv_len,latency_us,mfu
**   mha/prefill/{H}-{K}-{hd}.csv       dtype,seq_len,latency_us,mfu
** Head counts in file names are model-level.
**
** Two lookup modes (docs/MODEL.md):
**   MFU_NEAREST  the baseline's nearest neighbour with floor preference;
**   MFU_INTERP   H6: linear in log m (GEMM), bilinear in (batch, kv) (decode),
**                linear in seq (prefill), clamped at the grid edge, never
**                reading a missing or unusable (< 1e-4) corner.
** Every lookup can report which CSV rows served it (mfu_src_t), so a user can
** ask "why did this step cost that much".
*/
#ifndef TAM_MFU_H
#define TAM_MFU_H

#include "common.h"

typedef enum { MFU_NEAREST = 0, MFU_INTERP = 1 } mfu_mode_t;

/* Rows that served a lookup: line numbers in the CSV (header = line 1) and
** the weight each row's MFU had in the result (1.0 for nearest). */
typedef struct {
    int n;
    int line[4];
    double weight[4];
    const char *table; /* file path of the table (owned by the db) */
} mfu_src_t;

typedef struct mfu_table mfu_table_t; /* one CSV, opaque */
typedef struct mfu_db mfu_db_t;       /* everything under one directory */

/* The attention tables chosen for one model and TP degree. */
typedef struct {
    const mfu_table_t *decode;
    const mfu_table_t *prefill;
    char decode_file[256];  /* path of the table that serves decode */
    char prefill_file[256];
    int decode_exact;       /* 1 if heads and tp matched a file exactly */
    int prefill_exact;      /* 1 if heads matched exactly */
} mfu_attn_t;

/* Load every table under dir.  Errors name the file, line and field (bad
** number, NaN, negative, MFU > 1, ragged row, missing header column). */
int mfu_load(const char *dir, mfu_db_t **out, char *err);
/* The same with the GEMM table read from gemm_csv instead of dir/gemm/data.csv
** (NULL: the default), e.g. Tier 2's own sweep (tools/bench/measured/mfu/gemm/
** data.csv) beside the shared attention tables. */
int mfu_load_with_gemm(const char *dir, const char *gemm_csv, mfu_db_t **out, char *err);
/* How a set of tables is read.  exact: each row's mfu is recomputed from its
** latency_us with the table's own FLOP count (the column is rounded to 3
** decimals: 0.000-0.003 for MHA decode) instead of read from the column.
** gemm_fp8: the GEMM table measured FP8 kernels, its mfu relative to the FP8
** peak (the proposal's table: kernels/README.md).  Every row with a latency
** is checked against the physics of its declared dtype (implied FLOP/s above
** the dense peak; implied weight or KV traffic above HBM bandwidth when it
** cannot sit in L2), and a row that breaks it is an error naming file:line
** and the implied figure.  mfu_load and mfu_load_with_gemm read the
** proposal's way: {exact 0, gemm_fp8 1}. */
typedef struct {
    int exact;
    int gemm_fp8;
} mfu_opts_t;
int mfu_load_opts(const char *dir, const char *gemm_csv, const mfu_opts_t *opt, mfu_db_t **out,
                  char *err);
void mfu_free(mfu_db_t *db);

/* Choose attention tables: exact (H,K,hd) if present, else the nearest by
** Euclidean distance on (H,K,hd); decode then the exact tp, else the nearest tp. */
int mfu_select_attn(const mfu_db_t *db, int H, int K, int hd, int tp, mfu_attn_t *out, char *err);

/* MFU in (0, 1].  src may be NULL.  m, bs, kv, seq are >= 1. */
double mfu_gemm(const mfu_db_t *db, mfu_mode_t mode, double m, double k, double n, mfu_src_t *src);
double mfu_decode(const mfu_attn_t *a, mfu_mode_t mode, double bs, double kv, mfu_src_t *src);
double mfu_prefill(const mfu_attn_t *a, mfu_mode_t mode, double seq, mfu_src_t *src);

/* The file path a table was loaded from (owned by the db), or NULL for NULL. */
const char *mfu_table_path(const mfu_table_t *t);
/* Every file the db read, in load order (GEMM, decode tables, prefill
** tables, each sorted by key): count, then the i-th path and its role. */
int mfu_table_count(const mfu_db_t *db);
const char *mfu_table_file(const mfu_db_t *db, int i, const char **role);

#endif
