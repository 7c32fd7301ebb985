// Package engine runs decoder-only transformers (llama, mistral, qwen2, qwen3,
// gemma2, gemma3, phi3, chatglm, glm4, and the mixtures of experts qwen2moe, qwen3moe, mixtral) on the CPU in pure Go, with hooks at every named site of the forward pass.
//
// # Loading
//
// Load opens a GGUF file, a .safetensors file or a Hugging Face folder. The
// weights stay memory-mapped in their file dtype (F32, F16, BF16, Q8_0, Q4_0,
// Q4_1, Q5_0, Q5_1, Q2_K..Q6_K); a Model is immutable and can be shared by
// any number of goroutines. Each token sequence keeps its own KV cache in a
// Sequence.
//
// # The forward pass
//
// Forward runs a packed batch: the tokens of several sequences back to back,
// with no padding, each row knowing its sequence and absolute position.
// Attention is causal within a row's own sequence (and limited to the last
// SlidingWindow positions where the config asks for it). Per layer:
//
//	x  += o( attention( rope(q(norm(x))), rope(k(norm(x))), v(norm(x)) ) )
//	x  += down( silu(gate(norm(x))) * up(norm(x)) )
//
// with q/k/v biases (qwen2) and per-head q/k RMSNorm before rope (qwen3)
// where the architecture has them. Gemma adds, as data (arch_gemma.go):
// GELU instead of SiLU, norms after attention and feed-forward, scaled
// embeddings, a query scale, soft-capped scores and logits, and sliding
// layers interleaved with global ones, with their own rope base. Phi-3 is
// a llama block once weights.Open has split its fused tensors; it may rotate
// only part of each head and scale its rope with LongRoPE, whose short or
// long factors Options.ContextLength selects (rope_scaling.go, which also
// holds YaRN). GLM-4 (arch_glm.go) rotates only the first half of each
// head, in adjacent pairs, and glm4 normalises the sublayer outputs as Gemma
// does; its fused tensors arrive split by package weights.
// layers interleaved with global ones, with their own rope base. Mixtures of
// experts (qwen2moe, qwen3moe, mixtral; moe.go) replace the feed-forward by
// a router and top-k experts, each run once per pass over the tokens routed
// to it, plus Qwen2-MoE's gated shared expert.
// Architectures differ only by data in weights.Config, so every hook means
// the same thing on every architecture.
//
// Quantized weights are multiplied as llama.cpp does: the activation row is
// quantized to 8-bit blocks (Q8_0, Q8_1 or Q8_K, matching the weight type)
// and the products are integer dot products per block, scaled at the end.
// F16 and BF16 weights meet float32 activations. Every output element is one
// dot product computed by one worker, so results are bit-identical whatever
// the thread count, the batch packing, or prefill versus token-by-token
// decoding.
//
// # Hooks
//
// RunOptions.Hooks (package hooks) are called once per site, layer and batch
// with the rows' metadata: hook_embed, then per block hook_resid_pre,
// attn.hook_q/k/v (after bias, before q/k norm and rope), attn.hook_rot_q/k
// (after rope: what the cache stores), attn.hook_z, hook_attn_out,
// hook_resid_mid, mlp.hook_pre (gate), mlp.hook_pre_linear (up),
// mlp.hook_act (act(gate): silu, or gelu for Gemma; the neuron of LAPE/VAPE), mlp.hook_post
// (silu(gate)*up), hook_mlp_out, hook_resid_post; then
// ln_final.hook_normalized and hook_logits (only rows whose logits are
// computed). Editors run before the values are used, so zeroing neurons at
// hook_act also changes hook_post and everything after. With no hooks the
// pass does exactly the work it does without the hooks package, apart from
// one nil check per site.
//
// Before a pass, Forward checks the hooks against the model (hooks.Checker):
// a neuron index beyond a site's width, a layer the model lacks or a
// registration whose error was dropped is an error before anything runs,
// and a hook that panics during the pass ends it with an error.
//
// RunOptions.StopAfter ends a statistics pass early: later layers and the LM
// head are skipped.
//
// # Generation
//
// Generate prefills several prompts in one packed batch and then advances
// every live sequence together, one token per step, with greedy or seeded
// sampling (temperature, top-k, top-p, min-p, repetition penalty), stop
// tokens, stop strings and a context limit.
package engine
