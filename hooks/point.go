package hooks

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Site is a hook location: either inside a decoder block (used with a
// 0-based layer) or model-level (SiteEmbed, SiteFinalNorm, SiteLogits, used
// with layer -1). The numeric order of the constants is the order in which
// a forward pass reaches them, which Point.Before relies on.
type Site uint8

// Hook sites in forward-pass order. Shapes are engine-native: rows are the
// packed tokens of every sequence in the micro-batch (no padding), columns
// the feature width named in each comment.
const (
	SiteEmbed        Site = iota // hook_embed: token embeddings [rows, d_model]
	SiteResidPre                 // blocks.L.hook_resid_pre: block input [rows, d_model]
	SiteAttnQ                    // blocks.L.attn.hook_q: [rows, n_heads·d_head], before RoPE
	SiteAttnK                    // blocks.L.attn.hook_k: [rows, n_kv_heads·d_head], before RoPE
	SiteAttnV                    // blocks.L.attn.hook_v: [rows, n_kv_heads·d_head]
	SiteAttnRotQ                 // blocks.L.attn.hook_rot_q: queries after RoPE
	SiteAttnRotK                 // blocks.L.attn.hook_rot_k: keys after RoPE (what the KV cache stores)
	SiteAttnZ                    // blocks.L.attn.hook_z: per-head attention output [rows, n_heads·d_head]
	SiteAttnOut                  // blocks.L.hook_attn_out: after the output projection [rows, d_model]
	SiteResidMid                 // blocks.L.hook_resid_mid: residual after attention [rows, d_model]
	SiteRouterLogits             // blocks.L.mlp.hook_router_logits: router logits [rows, n_experts] (mixture of experts)
	SiteMLPPre                   // blocks.L.mlp.hook_pre: gate pre-activation [rows, d_mlp]
	SiteMLPPreLinear             // blocks.L.mlp.hook_pre_linear: up projection [rows, d_mlp] (gated MLPs)
	SiteMLPAct                   // blocks.L.mlp.hook_act: act(gate) [rows, d_mlp]; the LAPE/VAPE neuron
	SiteExpertAct                // blocks.L.mlp.experts.E.hook_act: act(gate) of expert E [rows routed to E, d_mlp]
	SiteSharedAct                // blocks.L.mlp.shared_expert.hook_act: act(gate) of the shared expert [rows, d_shared]
	SiteMLPPost                  // blocks.L.mlp.hook_post: act(gate)·up, input of the down projection
	SiteMLPOut                   // blocks.L.hook_mlp_out: after the down projection [rows, d_model]
	SiteResidPost                // blocks.L.hook_resid_post: block output [rows, d_model] = HF hidden_states[L+1]
	SiteFinalNorm                // ln_final.hook_normalized: final norm output [rows, d_model]
	SiteLogits                   // hook_logits: [rows with logits, vocab]; only rows whose logits are computed
	NumSites                     // number of sites; not a site
)

// siteNames holds the text form of each site: the full name of a
// model-level site, or the suffix after "blocks.L." of a block site.
var siteNames = [NumSites]string{
	SiteEmbed:        "hook_embed",
	SiteResidPre:     "hook_resid_pre",
	SiteAttnQ:        "attn.hook_q",
	SiteAttnK:        "attn.hook_k",
	SiteAttnV:        "attn.hook_v",
	SiteAttnRotQ:     "attn.hook_rot_q",
	SiteAttnRotK:     "attn.hook_rot_k",
	SiteAttnZ:        "attn.hook_z",
	SiteAttnOut:      "hook_attn_out",
	SiteResidMid:     "hook_resid_mid",
	SiteRouterLogits: "mlp.hook_router_logits",
	SiteMLPPre:       "mlp.hook_pre",
	SiteMLPPreLinear: "mlp.hook_pre_linear",
	SiteMLPAct:       "mlp.hook_act",
	SiteExpertAct:    "mlp.experts.hook_act", // the text form of a point puts the expert before hook_act
	SiteSharedAct:    "mlp.shared_expert.hook_act",
	SiteMLPPost:      "mlp.hook_post",
	SiteMLPOut:       "hook_mlp_out",
	SiteResidPost:    "hook_resid_post",
	SiteFinalNorm:    "ln_final.hook_normalized",
	SiteLogits:       "hook_logits",
}

// String returns the site's text form: the full name of a model-level site
// ("hook_logits") or the suffix of a block site ("mlp.hook_act").
func (s Site) String() string {
	if s < NumSites {
		return siteNames[s]
	}
	return "hooks.Site(" + strconv.Itoa(int(s)) + ")"
}

// ModelLevel reports whether the site lives outside the decoder blocks
// (SiteEmbed, SiteFinalNorm, SiteLogits); such points have Layer -1.
func (s Site) ModelLevel() bool {
	return s == SiteEmbed || s == SiteFinalNorm || s == SiteLogits
}

// ParseSite parses a site's text form as returned by Site.String, such as
// "mlp.hook_act" or "hook_logits".
func ParseSite(s string) (Site, error) {
	for i, name := range siteNames {
		if name == s {
			return Site(i), nil
		}
	}
	return 0, fmt.Errorf("hooks: unknown site %q", s)
}

// Point names one hook location. Layer is the 0-based decoder block for
// block sites and -1 for model-level sites. Expert is the 0-based expert of
// a SiteExpertAct point (AllExperts in a registration that matches every
// expert) and 0 at every other site.
type Point struct {
	Layer  int
	Site   Site
	Expert int
}

// AllExperts is the Expert of a point registered for every expert
// ("blocks.L.mlp.experts.*.hook_act").
const AllExperts = -1

// String returns the TransformerLens-style name, such as
// "blocks.3.mlp.hook_act", "blocks.3.mlp.experts.5.hook_act" or
// "hook_embed". ParsePoint is its inverse.
func (p Point) String() string {
	if p.Site.ModelLevel() && p.Layer == -1 {
		return p.Site.String()
	}
	if p.Site == SiteExpertAct {
		e := "*"
		if p.Expert != AllExperts {
			e = strconv.Itoa(p.Expert)
		}
		return "blocks." + strconv.Itoa(p.Layer) + ".mlp.experts." + e + ".hook_act"
	}
	return "blocks." + strconv.Itoa(p.Layer) + "." + p.Site.String()
}

// Before reports whether the forward pass reaches p strictly before q:
// hook_embed, then each block in order with its sites in Site order, then
// ln_final.hook_normalized and hook_logits.
func (p Point) Before(q Point) bool {
	pl, ql := p.stage(), q.stage()
	if pl != ql {
		return pl < ql
	}
	if p.Site == q.Site {
		return p.Expert < q.Expert
	}
	return p.Site < q.Site
}

// stage maps a point to its position in the layer sequence, placing
// model-level sites before the first or after the last block.
func (p Point) stage() int {
	switch p.Site {
	case SiteEmbed:
		return -1
	case SiteFinalNorm, SiteLogits:
		return math.MaxInt
	}
	return p.Layer
}

// valid reports whether p names a point of a model with nLayers blocks.
func (p Point) valid(nLayers int) bool {
	if p.Site >= NumSites {
		return false
	}
	if p.Site.ModelLevel() {
		return p.Layer == -1
	}
	return p.Layer >= 0 && p.Layer < nLayers
}

// ParsePoint parses a hook point name such as "blocks.3.mlp.hook_act" or
// "hook_logits". It accepts exactly the names Point.String produces (layers
// in decimal with no sign or leading zeros) and rejects everything else.
func ParsePoint(s string) (Point, error) {
	layer, suffix, isBlock, err := splitName(s)
	if err != nil {
		return Point{}, err
	}
	if !isBlock {
		site, err := ParseSite(s)
		if err != nil || !site.ModelLevel() {
			return Point{}, fmt.Errorf("hooks: unknown hook point %q", s)
		}
		return Point{Layer: -1, Site: site}, nil
	}
	n, err := parseLayer(layer)
	if err != nil {
		return Point{}, fmt.Errorf("hooks: hook point %q: %w", s, err)
	}
	if e, ok := expertPart(suffix); ok {
		x, err := parseLayer(e)
		if err != nil {
			return Point{}, fmt.Errorf("hooks: hook point %q: expert %w", s, err)
		}
		return Point{Layer: n, Site: SiteExpertAct, Expert: x}, nil
	}
	site, err := blockSite(suffix)
	if err != nil {
		return Point{}, fmt.Errorf("hooks: hook point %q: %w", s, err)
	}
	return Point{Layer: n, Site: site}, nil
}

// expertPart returns the expert part E of a suffix "mlp.experts.E.hook_act".
func expertPart(suffix string) (string, bool) {
	rest, ok := strings.CutPrefix(suffix, "mlp.experts.")
	if !ok {
		return "", false
	}
	return strings.CutSuffix(rest, ".hook_act")
}

// splitName splits "blocks.<layer>.<suffix>" into its parts; names not
// starting with "blocks." are returned as model-level (isBlock false).
func splitName(s string) (layer, suffix string, isBlock bool, err error) {
	rest, ok := strings.CutPrefix(s, "blocks.")
	if !ok {
		return "", "", false, nil
	}
	// The layer part may itself contain dots ("{0..3}"), so cut at the first
	// dot that is outside braces.
	depth := 0
	for i := 0; i < len(rest); i++ {
		switch rest[i] {
		case '{':
			depth++
		case '}':
			depth--
		case '.':
			if depth == 0 {
				return rest[:i], rest[i+1:], true, nil
			}
		}
	}
	return "", "", true, fmt.Errorf("hooks: hook point %q: missing site after the layer", s)
}

// blockSite parses the suffix of a block hook point.
func blockSite(suffix string) (Site, error) {
	site, err := ParseSite(suffix)
	if err != nil || site.ModelLevel() || site == SiteExpertAct {
		return 0, fmt.Errorf("unknown block site %q", suffix)
	}
	return site, nil
}

// parseLayer parses a canonical non-negative decimal layer number.
func parseLayer(s string) (int, error) {
	if s == "" {
		return 0, fmt.Errorf("empty layer")
	}
	if len(s) > 1 && s[0] == '0' {
		return 0, fmt.Errorf("layer %q has a leading zero", s)
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fmt.Errorf("layer %q is not a non-negative decimal number", s)
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil || n > math.MaxInt32 {
		return 0, fmt.Errorf("layer %q is out of range", s)
	}
	return n, nil
}

// Match expands a hook point pattern for a model with nLayers blocks and
// returns the matching points in forward order. A pattern is an exact name
// ("blocks.3.hook_resid_post", "hook_logits") or a block name whose layer
// part is "*" (every block) or a brace list of layers and inclusive ranges
// ("{0..3}", "{1,5,7..9}"). Layers beyond the model, empty or reversed
// ranges and unknown sites are errors, so a typo never registers nothing.
func Match(pattern string, nLayers int) ([]Point, error) {
	if nLayers < 0 {
		return nil, fmt.Errorf("hooks: pattern %q: negative layer count %d", pattern, nLayers)
	}
	layer, suffix, isBlock, err := splitName(pattern)
	if err != nil {
		return nil, err
	}
	if !isBlock {
		p, err := ParsePoint(pattern)
		if err != nil {
			return nil, err
		}
		return []Point{p}, nil
	}
	experts := []int{0}
	var site Site
	if e, ok := expertPart(suffix); ok {
		site = SiteExpertAct
		if experts, err = expandExperts(e); err != nil {
			return nil, fmt.Errorf("hooks: pattern %q: %w", pattern, err)
		}
	} else if site, err = blockSite(suffix); err != nil {
		return nil, fmt.Errorf("hooks: pattern %q: %w", pattern, err)
	}
	layers, err := expandLayers(layer, nLayers)
	if err != nil {
		return nil, fmt.Errorf("hooks: pattern %q: %w", pattern, err)
	}
	pts := make([]Point, 0, len(layers)*len(experts))
	for _, l := range layers {
		for _, e := range experts {
			pts = append(pts, Point{Layer: l, Site: site, Expert: e})
		}
	}
	return pts, nil
}

// expandLayers turns the layer part of a pattern into sorted, unique layers.
func expandLayers(s string, nLayers int) ([]int, error) {
	var want []bool
	switch {
	case s == "*":
		want = make([]bool, nLayers)
		for i := range want {
			want[i] = true
		}
	case strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}"):
		want = make([]bool, nLayers)
		for _, item := range strings.Split(s[1:len(s)-1], ",") {
			lo, hi, err := parseRange(item)
			if err != nil {
				return nil, err
			}
			if hi >= nLayers {
				return nil, fmt.Errorf("layer %d out of range for a model with %d layers", hi, nLayers)
			}
			for l := lo; l <= hi; l++ {
				want[l] = true
			}
		}
	default:
		n, err := parseLayer(s)
		if err != nil {
			return nil, err
		}
		if n >= nLayers {
			return nil, fmt.Errorf("layer %d out of range for a model with %d layers", n, nLayers)
		}
		return []int{n}, nil
	}
	var layers []int
	for l, ok := range want {
		if ok {
			layers = append(layers, l)
		}
	}
	if len(layers) == 0 {
		return nil, fmt.Errorf("matches no layer of a model with %d layers", nLayers)
	}
	return layers, nil
}

// maxExpertList bounds the experts a brace list may name, so that a
// pattern cannot make Match build millions of points.
const maxExpertList = 1 << 16

// expandExperts turns the expert part of a pattern into experts: "*" is
// AllExperts (the registry does not know the expert count; the model
// checks the experts a hook names), otherwise a number or a brace list as
// for layers.
func expandExperts(s string) ([]int, error) {
	if s == "*" {
		return []int{AllExperts}, nil
	}
	if !strings.HasPrefix(s, "{") || !strings.HasSuffix(s, "}") {
		n, err := parseLayer(s)
		if err != nil {
			return nil, fmt.Errorf("expert %w", err)
		}
		return []int{n}, nil
	}
	seen := map[int]bool{}
	for _, item := range strings.Split(s[1:len(s)-1], ",") {
		lo, hi, err := parseRange(item)
		if err != nil {
			return nil, fmt.Errorf("expert %w", err)
		}
		if hi-lo >= maxExpertList || len(seen)+hi-lo >= maxExpertList {
			return nil, fmt.Errorf("expert list %q names more than %d experts", s, maxExpertList)
		}
		for e := lo; e <= hi; e++ {
			seen[e] = true
		}
	}
	var out []int
	for e := range seen {
		out = append(out, e)
	}
	sort.Ints(out)
	return out, nil
}

// parseRange parses "a" or "a..b" (inclusive) from a brace list.
func parseRange(item string) (lo, hi int, err error) {
	a, b, isRange := strings.Cut(item, "..")
	lo, err = parseLayer(a)
	if err != nil {
		return 0, 0, err
	}
	if !isRange {
		return lo, lo, nil
	}
	hi, err = parseLayer(b)
	if err != nil {
		return 0, 0, err
	}
	if hi < lo {
		return 0, 0, fmt.Errorf("reversed layer range %q", item)
	}
	return lo, hi, nil
}

// Phase is the kind of forward pass a hook call belongs to; values are bit
// flags so that a When scope can name several.
type Phase uint8

// Phases of a forward pass.
const (
	Prefill  Phase = 1 << iota // the forward over prompt rows
	Decode                     // a forward producing one generated token per live sequence
	AnyPhase = Prefill | Decode
)

// String returns "prefill", "decode", "any" or a hex form for other values.
func (ph Phase) String() string {
	switch ph {
	case Prefill:
		return "prefill"
	case Decode:
		return "decode"
	case AnyPhase:
		return "any"
	}
	return fmt.Sprintf("hooks.Phase(%#x)", uint8(ph))
}
