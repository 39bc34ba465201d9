/* engine/model.h - a transformer's shapes, read from a HuggingFace config.json.
**
** Only what the step-time model needs: layer count, widths, head counts, the
** bytes of one weight and, for mixture-of-experts models, the expert count
** and experts per token.  Everything is model-level (not per GPU); the step
** model divides by the tensor-parallel degree.
*/
#ifndef TAM_MODEL_H
#define TAM_MODEL_H

#include "common.h"

typedef struct {
    char name[128];     /* config folder name or "_name_or_path" */
    int L;              /* num_hidden_layers */
    int d;              /* hidden_size */
    int H;              /* num_attention_heads */
    int K;              /* num_key_value_heads (default H) */
    int hd;             /* head_dim (default d / H) */
    int F;              /* intermediate_size (per expert for MoE) */
    int V;              /* vocab_size */
    int E;              /* num_local_experts, 0 for dense */
    int topk;           /* num_experts_per_tok, 0 for dense */
    int wbytes;         /* bytes per weight from torch_dtype */
    char dtype[24];     /* torch_dtype as written */
} model_t;

/* Parse a config.json file (path to the file or to its folder). */
int model_load(const char *path, model_t *m, char *err);
/* Same, from a JSON text already in memory; `what` names it in errors. */
int model_parse(const char *json, const char *what, model_t *m, char *err);
/* Total weight bytes of the whole model (all GPUs), for memory sanity checks. */
double model_weight_bytes(const model_t *m);
int model_is_gqa(const model_t *m);

#endif
