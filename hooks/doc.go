// Package hooks names the places inside a transformer forward pass where
// activations can be read or changed, and provides the observers and editors
// that do so: neuron edits (zero, scale, set), steering vectors, and
// streaming statistics (activation probability, moments, top-k).
//
// The engine calls into this package; this package knows nothing about the
// engine. At every hook site the engine asks Wants(point), which costs one
// load and one AND, and only when it is true materialises the tensor
// (unfusing kernels if it must) and calls Dispatch once per layer and
// micro-batch, never per token.
//
// # Hook points
//
// Points use TransformerLens names, parsed once at registration into a
// typed Point; unknown names are errors:
//
//	hook_embed
//	blocks.L.hook_resid_pre
//	blocks.L.attn.hook_q, hook_k, hook_v       before RoPE
//	blocks.L.attn.hook_rot_q, hook_rot_k       after RoPE
//	blocks.L.attn.hook_z                       per-head attention output
//	blocks.L.hook_attn_out, blocks.L.hook_resid_mid
//	blocks.L.mlp.hook_pre                      gate pre-activation
//	blocks.L.mlp.hook_pre_linear               up projection (gated MLPs)
//	blocks.L.mlp.hook_act                      act(gate): the LAPE/VAPE neuron
//	blocks.L.mlp.hook_post                     act(gate)·up: input of the down projection (TL's meaning)
//	blocks.L.hook_mlp_out, blocks.L.hook_resid_post
//	ln_final.hook_normalized
//	hook_logits                                only rows whose logits are computed
//
// A mixture-of-experts block has, instead of the dense mlp sites (which are
// an error on such a model, as these are on a dense one):
//
//	blocks.L.mlp.hook_router_logits            router logits [rows, experts]
//	blocks.L.mlp.experts.E.hook_act            act(gate) of expert E; rows: the tokens routed to E
//	blocks.L.mlp.shared_expert.hook_act        act(gate) of the shared expert (Qwen2-MoE)
//
// and hook_mlp_out is the mixture. Point.Expert holds E; the expert part of
// a pattern is a number, a brace list or "*" (every expert). Neuron sets
// at site "mlp.experts.hook_act" name the expert of each entry, and
// NewExpertActProb counts each expert's neurons over the tokens routed to it.
//
// Patterns select several points: "blocks.*.mlp.hook_act" (every block) and
// "blocks.{0..3,7}.hook_resid_post" (a list of layers and inclusive ranges).
//
// # Index conventions
//
//   - Layers are 0-based decoder blocks. Model-level points (hook_embed,
//     ln_final.hook_normalized, hook_logits) have Layer -1.
//   - hook_resid_post of block L equals Hugging Face hidden_states[L+1].
//   - A neuron index is a column of the named site: for mlp.hook_act it is
//     the j-th coordinate of act(gate), which multiplies column j of HF's
//     down_proj.weight ([d_model, d_mlp]).
//   - Tensors are row-major [rows, cols]; rows are the packed tokens of all
//     sequences in the micro-batch, without padding, described by Rows
//     (sequence slot, absolute position, tag, phase, decode step).
//
// # Composition rules
//
//  1. At one point, ObserveRaw observers run first, then editors in
//     registration order, then Observe observers.
//  2. Editors compose in order on the same values: scale 0.5 then zero gives
//     0; zero then add v gives v.
//  3. Edits at an earlier point change everything downstream, including what
//     later observers see, raw or not. To count clean activations while
//     ablating, observe raw at the ablated site or run a separate pass.
//  4. A When scope filters rows per editor. An editor with no indices at a
//     layer is not registered there (see Applier), so Wants stays false.
//  5. Register everything before a run; during runs a *Hooks is only read
//     and may be shared. Observers hold state: use one per concurrent run and
//     Merge the shards afterwards.
//
// # Edits and the KV cache
//
// An edit at a site that feeds attention (anything up to hook_rot_k and
// hook_v, or any earlier residual) changes the keys and values cached for
// the edited rows, so an edit to prompt rows persists through the cache into
// every later token. A Decode-only edit never changes keys already cached
// for the prompt. Deactivation as in LAPE and VAPE is global: use the zero
// When (every phase, position and tag), so prompt and generated tokens are
// both edited.
//
// # Zero, NaN and sign conventions
//
// OpZero writes +0 even where the value was ±Inf or NaN. ActProb counts a
// neuron active when its value is > 0 as an IEEE comparison: ±0 and NaN are
// not counted, positive subnormals and +Inf are. Statistics skip rows whose
// tag is negative, which is how callers leave out template tokens.
package hooks
