/* engine/tests/models.h - the model configs the engine tests price, written
** inline so that no test needs DATA: the shapes of Llama-2-7B (MHA, the HF
** config's float16) and CodeLlama-34B (GQA 64/8). */
#ifndef TAM_TEST_MODELS_H
#define TAM_TEST_MODELS_H

#define TEST_MODEL_L7 "{\"num_hidden_layers\":32,\"hidden_size\":4096," \
    "\"num_attention_heads\":32,\"num_key_value_heads\":32,\"intermediate_size\":11008," \
    "\"vocab_size\":32000,\"torch_dtype\":\"float16\"}"
#define TEST_MODEL_C34 "{\"num_hidden_layers\":48,\"hidden_size\":8192," \
    "\"num_attention_heads\":64,\"num_key_value_heads\":8,\"intermediate_size\":22016," \
    "\"vocab_size\":32000,\"torch_dtype\":\"bfloat16\"}"

#endif
