// llamadump: runs a prompt through llama.cpp (library API, one thread, F32
// KV cache) and prints, in full precision, every token's logits and each
// layer's SiLU(gate) (the unnamed unary SILU node of the feed-forward).
// Output: "act L ROWS COLS" / "logits ROWS COLS" headers, then values.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "llama.h"
#include "ggml.h"
#include "ggml-backend.h"

static int layer = 0;

static bool cb(struct ggml_tensor *t, bool ask, void *ud) {
    (void)ud;
    int silu = t->op == GGML_OP_UNARY && ggml_get_unary_op(t) == GGML_UNARY_OP_SILU;
    if (ask) return silu;
    if (!silu) return true;
    if (t->type != GGML_TYPE_F32 || !ggml_is_contiguous(t)) { fprintf(stderr, "act %d: not contiguous F32\n", layer); exit(1); }
    size_t n = ggml_nelements(t);
    float *buf = malloc(n * sizeof(float));
    ggml_backend_tensor_get(t, buf, 0, n * sizeof(float));
    printf("act %d %lld %lld\n", layer, (long long)(n / t->ne[0]), (long long)t->ne[0]);
    for (size_t i = 0; i < n; i++) printf("%.9e\n", buf[i]);
    free(buf);
    layer++;
    return true;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: llamadump MODEL.gguf ID...\n"); return 2; }
    llama_backend_init();
    struct llama_model_params mp = llama_model_default_params();
    struct llama_model *model = llama_model_load_from_file(argv[1], mp);
    if (!model) return 1;
    int n = argc - 2;
    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = 64; cp.n_batch = 64; cp.n_ubatch = 64;
    cp.n_threads = 1; cp.n_threads_batch = 1;
    cp.type_k = GGML_TYPE_F32; cp.type_v = GGML_TYPE_F32;
    cp.cb_eval = cb; cp.cb_eval_user_data = NULL;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) return 1;
    struct llama_batch b = llama_batch_init(n, 0, 1);
    for (int i = 0; i < n; i++) {
        b.token[i] = atoi(argv[i + 2]); b.pos[i] = i; b.n_seq_id[i] = 1; b.seq_id[i][0] = 0; b.logits[i] = 1;
    }
    b.n_tokens = n;
    if (llama_decode(ctx, b) != 0) { fprintf(stderr, "decode failed\n"); return 1; }
    int V = llama_vocab_n_tokens(llama_model_get_vocab(model));
    printf("logits %d %d\n", n, V);
    for (int i = 0; i < n; i++) {
        float *l = llama_get_logits_ith(ctx, i);
        for (int j = 0; j < V; j++) printf("%.9e\n", l[j]);
    }
    llama_batch_free(b);
    llama_free(ctx);
    llama_model_free(model);
    return 0;
}
