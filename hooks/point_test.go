package hooks

import (
	"slices"
	"strings"
	"testing"
)

// tlNames lists, written out by hand, the TransformerLens-style name of
// every site at layer 7 (or model level), in forward order.
var tlNames = []struct {
	name string
	p    Point
}{
	{"hook_embed", Point{Layer: -1, Site: SiteEmbed}},
	{"blocks.7.hook_resid_pre", Point{Layer: 7, Site: SiteResidPre}},
	{"blocks.7.attn.hook_q", Point{Layer: 7, Site: SiteAttnQ}},
	{"blocks.7.attn.hook_k", Point{Layer: 7, Site: SiteAttnK}},
	{"blocks.7.attn.hook_v", Point{Layer: 7, Site: SiteAttnV}},
	{"blocks.7.attn.hook_rot_q", Point{Layer: 7, Site: SiteAttnRotQ}},
	{"blocks.7.attn.hook_rot_k", Point{Layer: 7, Site: SiteAttnRotK}},
	{"blocks.7.attn.hook_z", Point{Layer: 7, Site: SiteAttnZ}},
	{"blocks.7.hook_attn_out", Point{Layer: 7, Site: SiteAttnOut}},
	{"blocks.7.hook_resid_mid", Point{Layer: 7, Site: SiteResidMid}},
	{"blocks.7.mlp.hook_router_logits", Point{Layer: 7, Site: SiteRouterLogits}},
	{"blocks.7.mlp.hook_pre", Point{Layer: 7, Site: SiteMLPPre}},
	{"blocks.7.mlp.hook_pre_linear", Point{Layer: 7, Site: SiteMLPPreLinear}},
	{"blocks.7.mlp.hook_act", Point{Layer: 7, Site: SiteMLPAct}},
	{"blocks.7.mlp.experts.0.hook_act", Point{Layer: 7, Site: SiteExpertAct}},
	{"blocks.7.mlp.shared_expert.hook_act", Point{Layer: 7, Site: SiteSharedAct}},
	{"blocks.7.mlp.hook_post", Point{Layer: 7, Site: SiteMLPPost}},
	{"blocks.7.hook_mlp_out", Point{Layer: 7, Site: SiteMLPOut}},
	{"blocks.7.hook_resid_post", Point{Layer: 7, Site: SiteResidPost}},
	{"ln_final.hook_normalized", Point{Layer: -1, Site: SiteFinalNorm}},
	{"hook_logits", Point{Layer: -1, Site: SiteLogits}},
}

func TestParsePointRoundTrip(t *testing.T) {
	if len(tlNames) != int(NumSites) {
		t.Fatalf("test table covers %d sites, package has %d", len(tlNames), NumSites)
	}
	for _, tc := range tlNames {
		got, err := ParsePoint(tc.name)
		if err != nil {
			t.Errorf("ParsePoint(%q): %v", tc.name, err)
			continue
		}
		if got != tc.p {
			t.Errorf("ParsePoint(%q) = %+v, want %+v", tc.name, got, tc.p)
		}
		if s := tc.p.String(); s != tc.name {
			t.Errorf("%+v.String() = %q, want %q", tc.p, s, tc.name)
		}
	}
	for _, tc := range []struct {
		name string
		p    Point
	}{
		{"blocks.0.mlp.hook_act", Point{Layer: 0, Site: SiteMLPAct}},
		{"blocks.123456.hook_resid_post", Point{Layer: 123456, Site: SiteResidPost}},
		{"blocks.3.mlp.experts.17.hook_act", Point{Layer: 3, Site: SiteExpertAct, Expert: 17}},
	} {
		got, err := ParsePoint(tc.name)
		if err != nil || got != tc.p || tc.p.String() != tc.name {
			t.Errorf("ParsePoint(%q) = %+v, %v; want %+v", tc.name, got, err, tc.p)
		}
	}
}

func TestParsePointErrors(t *testing.T) {
	for _, name := range []string{
		"", "blocks", "blocks.", "blocks.3", "blocks.3.", "blocks..mlp.hook_act",
		"blocks.-1.mlp.hook_act", "blocks.+1.mlp.hook_act", "blocks.03.mlp.hook_act",
		"blocks.1e2.mlp.hook_act", "blocks.x.mlp.hook_act", "blocks.*.mlp.hook_act",
		"blocks.{0..3}.mlp.hook_act", "blocks.99999999999999999999.mlp.hook_act",
		"blocks.3.mlp.hook_gate", "blocks.3.hook_embed", "blocks.3.hook_logits",
		"blocks.3.mlp.experts.hook_act", "blocks.3.mlp.experts.*.hook_act", "blocks.3.mlp.experts.01.hook_act",
		"blocks.3.mlp.experts.-1.hook_act", "blocks.3.mlp.experts.2.hook_post",
		"blocks.3.ln_final.hook_normalized", "hook_resid_post", "mlp.hook_act",
		"hook_embed ", " hook_embed", "HOOK_EMBED", "blocks.3.MLP.hook_act",
		"blocks.3.mlp.hook_act.", "blocks.3.attn.hook_attn_scores",
	} {
		if p, err := ParsePoint(name); err == nil {
			t.Errorf("ParsePoint(%q) = %+v, want an error", name, p)
		}
	}
}

func TestParseSite(t *testing.T) {
	for _, tc := range tlNames {
		suffix := tc.name
		if !tc.p.Site.ModelLevel() {
			suffix = strings.TrimPrefix(tc.name, "blocks.7.")
		}
		if tc.p.Site == SiteExpertAct {
			suffix = "mlp.experts.hook_act" // a site's name; a point puts the expert in it
		}
		got, err := ParseSite(suffix)
		if err != nil || got != tc.p.Site || got.String() != suffix {
			t.Errorf("ParseSite(%q) = %v, %v; want %v", suffix, got, err, tc.p.Site)
		}
	}
	if _, err := ParseSite("blocks.0.mlp.hook_act"); err == nil {
		t.Error("ParseSite accepted a full point name")
	}
}

func TestMatch(t *testing.T) {
	pts := func(site Site, layers ...int) []Point {
		var out []Point
		for _, l := range layers {
			out = append(out, Point{Layer: l, Site: site})
		}
		return out
	}
	for _, tc := range []struct {
		pattern string
		nLayers int
		want    []Point
	}{
		{"blocks.*.mlp.hook_act", 4, pts(SiteMLPAct, 0, 1, 2, 3)},
		{"blocks.{0..3}.hook_resid_post", 6, pts(SiteResidPost, 0, 1, 2, 3)},
		{"blocks.{2}.hook_resid_post", 6, pts(SiteResidPost, 2)},
		{"blocks.{5,1,3..4}.attn.hook_z", 6, pts(SiteAttnZ, 1, 3, 4, 5)},
		{"blocks.{0..2,1..3}.mlp.hook_post", 4, pts(SiteMLPPost, 0, 1, 2, 3)},
		{"blocks.3.hook_resid_pre", 4, pts(SiteResidPre, 3)},
		{"hook_embed", 4, []Point{{Layer: -1, Site: SiteEmbed}}},
		{"hook_logits", 0, []Point{{Layer: -1, Site: SiteLogits}}},
		{"ln_final.hook_normalized", 2, []Point{{Layer: -1, Site: SiteFinalNorm}}},
	} {
		got, err := Match(tc.pattern, tc.nLayers)
		if err != nil {
			t.Errorf("Match(%q, %d): %v", tc.pattern, tc.nLayers, err)
			continue
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Match(%q, %d) = %v, want %v", tc.pattern, tc.nLayers, got, tc.want)
		}
	}
}

func TestMatchErrors(t *testing.T) {
	for _, tc := range []struct {
		pattern string
		nLayers int
	}{
		{"blocks.4.mlp.hook_act", 4},        // layer beyond the model
		{"blocks.{0..4}.mlp.hook_act", 4},   // range beyond the model
		{"blocks.{3..1}.mlp.hook_act", 4},   // reversed
		{"blocks.{}.mlp.hook_act", 4},       // empty list
		{"blocks.{1,}.mlp.hook_act", 4},     // empty item
		{"blocks.{0...2}.mlp.hook_act", 4},  // bad range
		{"blocks.{a..b}.mlp.hook_act", 4},   // not numbers
		{"blocks.{0..1.mlp.hook_act", 4},    // unclosed brace
		{"blocks.**.mlp.hook_act", 4},       // not a wildcard
		{"blocks.*.mlp.hook_gate", 4},       // unknown site
		{"blocks.*.hook_logits", 4},         // model-level site inside a block
		{"blocks.*.mlp.hook_act", 0},        // no layers at all
		{"hook_nothing", 4},                 // unknown model-level name
		{"blocks.*.mlp.hook_act", -1},       // negative layer count
		{"blocks.*", 4},                     // no site
		{"blocks.{-1..2}.mlp.hook_act", 4},  // negative layer
		{"blocks.{01..2}.mlp.hook_act", 4},  // leading zero
		{"blocks.{0..2}x.mlp.hook_act", 4},  // junk after the brace
		{"blocks.x{0..2}.mlp.hook_act", 4},  // junk before the brace
		{"blocks.{0..2}.mlp.hook_act.", 4},  // trailing dot
		{"blocks.{0..2}.mlp.hook_act ", 4},  // trailing space
		{"blocks.{{0..2}}.mlp.hook_act", 4}, // nested braces
	} {
		if got, err := Match(tc.pattern, tc.nLayers); err == nil {
			t.Errorf("Match(%q, %d) = %v, want an error", tc.pattern, tc.nLayers, got)
		}
	}
}

func TestBefore(t *testing.T) {
	// Forward order over a 3-layer model, built by hand from the brief's
	// site order.
	var order []Point
	order = append(order, Point{Layer: -1, Site: SiteEmbed})
	for l := 0; l < 3; l++ {
		for _, s := range []Site{SiteResidPre, SiteAttnQ, SiteAttnK, SiteAttnV, SiteAttnRotQ, SiteAttnRotK,
			SiteAttnZ, SiteAttnOut, SiteResidMid, SiteRouterLogits, SiteMLPPre, SiteMLPPreLinear, SiteMLPAct,
			SiteExpertAct, SiteSharedAct, SiteMLPPost,
			SiteMLPOut, SiteResidPost} {
			order = append(order, Point{Layer: l, Site: s})
		}
	}
	order = append(order, Point{Layer: -1, Site: SiteFinalNorm}, Point{Layer: -1, Site: SiteLogits})
	for i, p := range order {
		for j, q := range order {
			if got, want := p.Before(q), i < j; got != want {
				t.Errorf("%v.Before(%v) = %v, want %v", p, q, got, want)
			}
		}
	}
}

func FuzzParsePoint(f *testing.F) {
	for _, tc := range tlNames {
		f.Add(tc.name)
	}
	for _, s := range []string{"blocks.*.mlp.hook_act", "blocks.{0..3}.hook_resid_post", "blocks.00.hook_z", "", "blocks.{"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePoint(s)
		if err != nil {
			return
		}
		if got := p.String(); got != s {
			t.Fatalf("ParsePoint(%q) = %+v whose String is %q", s, p, got)
		}
		if !p.valid(p.Layer + 1) {
			t.Fatalf("ParsePoint(%q) = invalid point %+v", s, p)
		}
	})
}

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"blocks.*.mlp.hook_act", "blocks.{0..3,5}.hook_resid_post", "hook_logits", "blocks.{3..1}.hook_z"} {
		f.Add(s, 6)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n %= 1000 // keep expansions small
		pts, err := Match(s, n)
		if err != nil {
			return
		}
		if len(pts) == 0 {
			t.Fatalf("Match(%q, %d) returned no points and no error", s, n)
		}
		for i, p := range pts {
			if !p.valid(n) {
				t.Fatalf("Match(%q, %d) returned invalid point %+v", s, n, p)
			}
			if i > 0 && !pts[i-1].Before(p) {
				t.Fatalf("Match(%q, %d) not in strict forward order: %v", s, n, pts)
			}
		}
	})
}
