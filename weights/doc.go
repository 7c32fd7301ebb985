// Package weights turns model files into typed tensors and a model
// configuration, without copying or converting the weights.
//
// # Formats
//
// [Open] accepts three layouts and gives the same [Model] for each:
//
//   - a GGUF file (versions 2 and 3, as written by llama.cpp and gguf-py):
//     metadata key/value pairs, tensor infos, then the aligned tensor data.
//     The configuration comes from the "{arch}.*" keys
//     (llama.embedding_length, qwen2.attention.head_count_kv, ...), the
//     tokenizer stays in [GGUF] metadata for the tokenizer package.
//   - a Hugging Face folder: config.json plus model.safetensors, or shards
//     listed by model.safetensors.index.json.
//   - a single .safetensors file, with config.json beside it.
//
// Architectures llama, mistral, qwen2, qwen3, gemma2, gemma3 (text), phi3
// (Phi-3, Phi-3.5, Phi-4-mini), chatglm and glm4 (GLM-4) are accepted, with
// linear, llama3, LongRoPE and YaRN rope scaling (see rope.go), and the
// mixtures of experts qwen2moe, qwen3moe and mixtral (a llama GGUF with
// experts; see arch_moe.go). Tensor dtypes
// are ggml's (see [DType]): F32, F16, BF16 and the block-quantized Q4_0, Q4_1,
// Q5_0, Q5_1, Q8_0 and K-quants in GGUF; F32, F16 and BF16 in safetensors.
// The safetensors format itself is read and written by the leaf package
// weights/safetensors; [WriteGGUF] writes GGUF for tests and tools.
//
// # Zero copy
//
// Files are memory-mapped read-only. A [Tensor]'s Data aliases the mapping,
// so opening a 1 GB model reads only its header (about 0.4 ms and 150 KB of
// allocations for the GGUF, 3 ms for safetensors; see BenchmarkOpen1GB), and
// pages are loaded when a kernel first touches them. [Model.Close] unmaps
// the files; no tensor may be used afterwards.
//
// # Canonical names and shapes
//
// Tensors are keyed by GGUF-style canonical names whatever the file format:
//
//	token_embd.weight            model.embed_tokens.weight
//	output_norm.weight           model.norm.weight
//	output.weight                lm_head.weight (absent when tied)
//	blk.N.attn_norm.weight       model.layers.N.input_layernorm.weight
//	blk.N.attn_{q,k,v}.weight    model.layers.N.self_attn.{q,k,v}_proj.weight
//	blk.N.attn_{q,k,v}.bias      model.layers.N.self_attn.{q,k,v}_proj.bias (qwen2)
//	blk.N.attn_{q,k}_norm.weight model.layers.N.self_attn.{q,k}_norm.weight (qwen3)
//	blk.N.attn_output.weight     model.layers.N.self_attn.o_proj.weight
//	blk.N.ffn_norm.weight        model.layers.N.post_attention_layernorm.weight
//	blk.N.ffn_{gate,up,down}.weight  model.layers.N.mlp.{gate,up,down}_proj.weight
//
// Gemma names its norms differently (see arch_gemma.go): in gemma2 and
// gemma3, post_attention_layernorm is blk.N.post_attention_norm (the
// attention output's norm), pre_feedforward_layernorm is blk.N.ffn_norm and
// post_feedforward_layernorm is blk.N.post_ffw_norm; a Gemma 3 multimodal
// checkpoint's language_model.* tensors are read as the text model and its
// vision tower is skipped. Gemma's norm weights are presented as GGUF holds
// them, 1 + w: a Hugging Face folder's w gets 1 added at open.
//
// Phi-3 fuses q, k and v (self_attn.qkv_proj, GGUF blk.N.attn_qkv) and gate
// and up (mlp.gate_up_proj, GGUF blk.N.ffn_up of 2·ffn rows); Open splits
// them into the names above as row ranges of the mapping, without copying,
// and [Model.FileNames] names the range ("blk.0.attn_qkv.weight[0:3072]").
//
// GLM-4 (see arch_glm.go) fuses tensors the same way: mlp.gate_up_proj (GGUF
// ffn_up, 2*ffn rows, gate first) and, in chatglm GGUFs, attn_qkv (weight and
// bias), presented as the same row views. glm4's post_self_attn_layernorm and
// post_mlp_layernorm are blk.N.post_attention_norm and post_ffw_norm.
//
// [CanonicalName] maps a Hugging Face name; [Model.FileNames] keeps the name
// each file used. Shapes are outermost first, as in PyTorch: a weight is
// [out_features, in_features] and the last axis is contiguous. GGUF stores
// the same bytes with its ne array reversed (ne[0] is the contiguous axis),
// so a GGUF ffn_down with ne [160, 64] has Shape [64, 160] here.
//
// At open time every tensor the engine reads is checked against the config
// (presence, shape, a dtype that can hold it), so a mismatch is an error
// naming the tensor rather than a wrong answer later. Tensors the config
// does not account for are refused with their names too: a config that
// declares fewer layers than the file holds would otherwise run a truncated
// model, and an unknown tensor would be silently ignored. The few tensors
// that may be present without being read are listed in check.go
// (rope_freqs.weight, rotary inv_freq buffers, an lm_head identical to a
// tied embedding).
//
// NaN and Inf weights are not looked for at open (that would read the whole
// file); [Tensor.Scan] and [CheckFinite] find them on demand, and the
// engine checks its activations and names the tensor responsible.
//
// # The q/k row permutation
//
// Hugging Face llama-family checkpoints use the "rotate half" (NeoX) rope:
// within a head of D dimensions, element j is rotated together with element
// j+D/2. llama.cpp runs the GGUF llama and mistral architectures with the
// original Meta rope, which rotates adjacent pairs (2i, 2i+1), so its
// converter permutes the rows of attn_q and attn_k (and their biases) within
// each head:
//
//	GGUF row h*D + 2i   holds HF row h*D + i
//	GGUF row h*D + 2i+1 holds HF row h*D + D/2 + i
//
// with h running over the heads (the kv heads for attn_k). qwen2, qwen3,
// gemma2 and gemma3 GGUFs are not permuted: llama.cpp runs them with NeoX
// rope. Nor are chatglm and glm4 GGUFs: GLM's own rope turns adjacent pairs,
// as llama.cpp's normal rope does, so both formats hold the same rows
// (Config.RopeInterleaved).
//
// This package presents every model in the Hugging Face order, so the engine
// has one rope. It does so without copying the weights: a permuted tensor
// gets a RowOrder, and logical row i is read from stored row RowOrder[i]
// ([Tensor.Row], [Tensor.DequantizeRow] and [Tensor.Float32] honour it).
// The order is one []int32 per head count, shared by every layer. Permuted
// biases are small and are copied into HF order instead.
//
// # Safety limits
//
// Parsers run on untrusted bytes: a broken or hostile file gives an error
// that names the file and the key, tensor or byte offset, never a panic and
// never an allocation sized by a count the file claims. Each reader's doc
// comment states its memory bound, and a test per reader measures it on
// adversarial input. GGUF: metadata values at most 256 MiB together, at most
// 2^20 tensors and 2^20 metadata keys, strings up to 64 MiB, arrays up to 2^28
// elements and nested 8 deep, 1 to 4 dimensions of 1 to 2^33-4 elements,
// UTF-8 keys and names, no duplicate keys or tensors, general.alignment a
// power of two up to 1 MiB, every tensor offset aligned, inside the file and
// not overlapping another. safetensors: a header of at most 100 MiB of
// valid UTF-8 in the format's fixed JSON grammar (an object of entries with
// exactly dtype, shape and data_offsets, integers only, plus one string map)
// with no duplicate key at any level, at most 8 dimensions, byte ranges
// matching shape×dtype, inside the file and not overlapping. config.json: at
// most 4 MiB, sizes between 1 and 2^24, heads a multiple of kv heads, an even
// head dimension, token ids inside the vocabulary (at most 1024 of them),
// finite rope factors. Shard indexes: at most 64 MiB and 2^20 entries, only
// plain file names in the same folder, and every tensor they list must be in
// the shard they name.
//
// What the limits cannot cover: a file truncated or rewritten by another
// process while it is mapped makes the next access to a lost page fault
// (SIGBUS), as with any memory map.
//
// # Inspecting
//
// [Describe] summarises an opened model (config, tensor table, tokenizer
// source, chat template, dtype counts) as a JSON-marshalable [Report] whose
// [Report.WriteText] prints it for people; `valueexp inspect` is built on it.
package weights
