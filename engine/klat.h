/* engine/klat.h - measured kernel latencies and their lookups in latency space.
**
** The measured kernel set (docs: ../shared/data/kernels/README.md) holds real
** bf16 H100 timings of vLLM's own kernels, in microseconds, shapes per GPU:
**   gemm.csv               m,n,k,latency_us[,kernel_source]
**   decode_attention.csv   batch_size,kv_len,num_heads,num_kv_heads,latency_us[,...]
**   prefill_attention.csv  batch_size,seq_len,num_heads,num_kv_heads,latency_us[,...]
**   moe_<model>.csv        num_tokens,moe_tp_size,moe_ep_size,distribution,latency_us[,...]
** Columns are found by header name (any order, extra columns ignored).
**
** Every lookup answers in seconds and reports which rows served it
** (klat_src_t): their CSV lines and weights, and whether the query lay
** outside the measured grid (extrapolated).  Lookups are pure: after
** klat_*_load a table is immutable, and a lookup never allocates or writes.
**
** Interpolation is in latency space:
**   GEMM     piecewise linear in m within a measured (k, n) pair; between
**            pairs, the roofline efficiency e = t_roof(m,k,n) / latency is
**            interpolated bilinearly in (log k, log n) and the latency is
**            t_roof(m,k,n) / e, where t_roof = max(2mkn / P, b (kn + mk + mn) / B):
**            so a shape scales per FLOP where compute-bound and per byte
**            where memory-bound.  A grid point returns its own latency.
**   decode   bilinear in (batch, kv_len) for one (heads, kv_heads) pair;
**   prefill  bilinear in (batch, seq_len) for one (heads, kv_heads) pair;
**   MoE      piecewise linear in tokens for one (tp, ep, distribution).
** Beyond the grid a lookup scales from the nearest measured point with the
** physically matching quantity (GEMM: t_roof; attention: KV tokens or
** causal FLOPs; MoE: tokens) and sets src->extrapolated.
*/
#ifndef TAM_KLAT_H
#define TAM_KLAT_H

#include "common.h"

#define KLAT_SRC_MAX 8

typedef struct {
    int n;                      /* rows that served the lookup */
    int line[KLAT_SRC_MAX];     /* CSV lines (header = line 1) */
    double weight[KLAT_SRC_MAX];
    const char *table;          /* file path (owned by the table) */
    int extrapolated;           /* 1: the query lay outside the measured grid */
} klat_src_t;

/* The physics a table's rows are checked against at load, and the GEMM
** roofline of the shape interpolation: the dense peak of the table's dtype
** (FLOP/s), HBM bandwidth (B/s), bytes per element, and the L2 size below
** which a working set may be served from cache (no bandwidth check). */
typedef struct {
    double peak_flops;
    double hbm_bw;
    double elem_bytes;
    double l2_bytes;
    double tolerance;   /* a row may exceed a limit by this fraction (noise) */
} klat_phys_t;

/* The bf16 H100 SXM figures the measured tables are checked against: dense
** bf16 peak 989.5 TFLOP/s, HBM3 3.35 TB/s, 2 bytes, L2 50 MiB.  Tolerance 0:
** every row of the real vllm-0.24.0 tables (gemm, decode, prefill) stays
** below both limits (the highest: a GEMM at 96.6% of the FLOP peak, a decode
** call at 94.6% of HBM bandwidth), so no noise allowance is needed; the
** FP8 table mfu/h100/gemm/data.csv is refused under these figures. */
#define KLAT_PHYS_H100_BF16 {989.5e12, 3.35e12, 2.0, 50.0 * 1024 * 1024, 0.0}

/* The model shape behind a MoE table (the file does not carry it), for the
** physics check of klat_moe_load_shape: hidden size, the model's whole
** intermediate size (a row's GPU holds intermediate / moe_tp_size of it),
** routed experts and experts per token. */
typedef struct {
    double hidden;
    double intermediate;
    int experts;
    int topk;
} klat_moe_shape_t;

typedef struct klat_gemm klat_gemm_t;
typedef struct klat_attn klat_attn_t; /* decode or prefill attention */
typedef struct klat_moe klat_moe_t;

/* Loaders: errors name file:line, the column and the value (missing header
** column, ragged row, a number that is not a finite positive value, a
** duplicate grid point) and, for a row that breaks physics, the implied
** figure against the limit ("implies 1286 TFLOP/s, above the dense peak
** 989.5 TFLOP/s"). */
int klat_gemm_load(const char *path, const klat_phys_t *ph, klat_gemm_t **out, char *err);
int klat_attn_load(const char *path, int is_prefill, const klat_phys_t *ph, klat_attn_t **out,
                   char *err);
/* klat_moe_load checks the form of every row but no physics (the file has no
** shape); klat_moe_load_shape with a shape also checks the rows with
** moe_ep_size 1 against ph (klat.c says exactly what; shape NULL: as
** klat_moe_load). */
int klat_moe_load(const char *path, const klat_phys_t *ph, klat_moe_t **out, char *err);
int klat_moe_load_shape(const char *path, const klat_phys_t *ph, const klat_moe_shape_t *shape,
                        klat_moe_t **out, char *err);
void klat_gemm_free(klat_gemm_t *t);
void klat_attn_free(klat_attn_t *t);
void klat_moe_free(klat_moe_t *t);

/* GEMM latency (s) of an (m x k) by (k x n) product, m, k, n >= 1. */
double klat_gemm(const klat_gemm_t *t, double m, double k, double n, klat_src_t *src);

/* 1 when the table has rows for (heads, kv_heads) (per GPU), else 0. */
int klat_attn_has(const klat_attn_t *t, int heads, int kv_heads);
/* Latency (s) of one kernel call over a batch of `batch` requests that all
** have length x (decode: kv_len, the context read; prefill: seq_len, a
** causal prefill with no prior context).  The caller has checked
** klat_attn_has (a missing pair is a broken invariant: TAM_ASSERT); batch,
** x >= 1 (smaller values are answered, clamped and flagged). */
double klat_attn(const klat_attn_t *t, int heads, int kv_heads, double batch, double x,
                 klat_src_t *src);

/* 1 when the table has rows for (tp, ep, distribution). */
int klat_moe_has(const klat_moe_t *t, int tp, int ep, const char *distribution);
/* Latency (s) of one fused-MoE layer over `tokens` tokens (>= 1); the caller
** has checked klat_moe_has (else TAM_ASSERT). */
double klat_moe(const klat_moe_t *t, int tp, int ep, const char *distribution, double tokens,
                klat_src_t *src);

const char *klat_gemm_path(const klat_gemm_t *t);
const char *klat_attn_path(const klat_attn_t *t);
const char *klat_moe_path(const klat_moe_t *t);

#endif
