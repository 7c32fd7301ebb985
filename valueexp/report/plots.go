package report

import (
	"bufio"
	"fmt"
	"image/color"
	"math"
	"os"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/palette"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// dpi of every PNG: 100 keeps 10-point labels legible at a size that fits
// a Markdown viewer without scaling.
const dpi = 100

// valueColors gives each of the 12 values its own colour, the same in every
// figure: Tableau's ten categorical colours plus yellow and navy, chosen so
// that neighbours in a stack stay distinguishable.
var valueColors = [12]color.RGBA{
	{0x1f, 0x77, 0xb4, 0xff}, {0xff, 0x7f, 0x0e, 0xff}, {0x2c, 0xa0, 0x2c, 0xff}, {0xd6, 0x27, 0x28, 0xff},
	{0x94, 0x67, 0xbd, 0xff}, {0x8c, 0x56, 0x4b, 0xff}, {0xe3, 0x77, 0xc2, 0xff}, {0x7f, 0x7f, 0x7f, 0xff},
	{0xbc, 0xbd, 0x22, 0xff}, {0x17, 0xbe, 0xcf, 0xff}, {0xf0, 0xe4, 0x42, 0xff}, {0x39, 0x3b, 0x79, 0xff},
}

// Two colours for zh and en bars.
var (
	zhColor = color.RGBA{0xc0, 0x39, 0x2b, 0xff}
	enColor = color.RGBA{0x29, 0x80, 0xb9, 0xff}
	nanFill = color.RGBA{0xd9, 0xd9, 0xd9, 0xff}
)

// ramp is a linear colour scale through evenly spaced stops over
// [min, max]; it implements palette.ColorMap for plotter.ColorBar.
type ramp struct {
	min, max float64
	stops    []color.RGBA
}

var (
	// sequential runs white to dark blue, for overlaps in [0, 1].
	sequentialStops = []color.RGBA{{0xf7, 0xfb, 0xff, 0xff}, {0x9e, 0xca, 0xe1, 0xff}, {0x31, 0x82, 0xbd, 0xff}, {0x08, 0x30, 0x6b, 0xff}}
	// diverging is ColorBrewer's RdBu: red for a fall, white for no change,
	// blue for a rise.
	divergingStops = []color.RGBA{{0xb2, 0x18, 0x2b, 0xff}, {0xef, 0x8a, 0x62, 0xff}, {0xfd, 0xdb, 0xc7, 0xff}, {0xf7, 0xf7, 0xf7, 0xff}, {0xd1, 0xe5, 0xf0, 0xff}, {0x67, 0xa9, 0xcf, 0xff}, {0x21, 0x66, 0xac, 0xff}}
)

func (r *ramp) colorAt(v float64) color.RGBA {
	if math.IsNaN(v) {
		return nanFill
	}
	t := 0.5
	if r.max > r.min {
		t = (v - r.min) / (r.max - r.min)
	}
	t = math.Max(0, math.Min(1, t))
	pos := t * float64(len(r.stops)-1)
	i := int(pos)
	if i >= len(r.stops)-1 {
		return r.stops[len(r.stops)-1]
	}
	f := pos - float64(i)
	a, b := r.stops[i], r.stops[i+1]
	mix := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-f) + float64(y)*f)) }
	return color.RGBA{mix(a.R, b.R), mix(a.G, b.G), mix(a.B, b.B), 0xff}
}

// At implements palette.ColorMap.
func (r *ramp) At(v float64) (color.Color, error) { return r.colorAt(v), nil }

// Max implements palette.ColorMap.
func (r *ramp) Max() float64 { return r.max }

// Min implements palette.ColorMap.
func (r *ramp) Min() float64 { return r.min }

// SetMax implements palette.ColorMap.
func (r *ramp) SetMax(v float64) { r.max = v }

// SetMin implements palette.ColorMap.
func (r *ramp) SetMin(v float64) { r.min = v }

// Alpha implements palette.ColorMap; ramps are opaque.
func (r *ramp) Alpha() float64 { return 1 }

// SetAlpha implements palette.ColorMap; ramps stay opaque.
func (r *ramp) SetAlpha(float64) {}

// Palette implements palette.ColorMap.
func (r *ramp) Palette(n int) palette.Palette {
	cs := make([]color.Color, n)
	for i := range cs {
		cs[i] = r.colorAt(r.min + (r.max-r.min)*float64(i)/float64(max(n-1, 1)))
	}
	return plainPalette(cs)
}

type plainPalette []color.Color

func (p plainPalette) Colors() []color.Color { return p }

// textOn returns black or white, whichever reads better on background c.
func textOn(c color.RGBA) color.Color {
	lum := 0.2126*float64(c.R) + 0.7152*float64(c.G) + 0.0722*float64(c.B)
	if lum < 140 {
		return color.White
	}
	return color.Black
}

// matrix is a plot.Plotter drawing a grid of coloured cells, row 0 at the
// top, each annotated with its value; NaN cells are grey and read "n/a".
type matrix struct {
	vals      [][]float64
	scale     *ramp
	format    string // fmt verb for annotations; "" for none
	fontSize  vg.Length
	highlight func(r, c int) bool // cells to outline, e.g. a set's own value
	mark      func(r, c int) bool // cells whose annotation gets a "*" (survives the correction)
	breaks    []int               // draw a rule above these rows, between blocks
}

// Plot implements plot.Plotter.
func (m *matrix) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	rows := len(m.vals)
	sty := draw.TextStyle{Font: font.From(plot.DefaultFont, m.fontSize), XAlign: draw.XCenter, YAlign: draw.YCenter, Handler: plot.DefaultTextHandler}
	for r, row := range m.vals {
		y := float64(rows - 1 - r)
		for col, v := range row {
			x := float64(col)
			x0, x1, y0, y1 := tx(x-0.5), tx(x+0.5), ty(y-0.5), ty(y+0.5)
			bg := m.scale.colorAt(v)
			c.FillPolygon(bg, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
			c.StrokeLines(draw.LineStyle{Color: color.White, Width: vg.Points(1)}, []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}, {X: x0, Y: y0}})
			if m.highlight != nil && m.highlight(r, col) {
				in := vg.Points(1.5)
				c.StrokeLines(draw.LineStyle{Color: color.Black, Width: vg.Points(2)}, []vg.Point{{X: x0 + in, Y: y0 + in}, {X: x1 - in, Y: y0 + in}, {X: x1 - in, Y: y1 - in}, {X: x0 + in, Y: y1 - in}, {X: x0 + in, Y: y0 + in}})
			}
			if m.format == "" {
				continue
			}
			s := "n/a"
			switch {
			case v == 0:
				s = "0" // exact zeros stand out from small values
			case !math.IsNaN(v):
				s = trimZero(fmt.Sprintf(m.format, v))
			}
			if m.mark != nil && m.mark(r, col) && !math.IsNaN(v) {
				s += "*"
			}
			sty.Color = textOn(bg)
			c.FillText(sty, vg.Point{X: (x0 + x1) / 2, Y: (y0 + y1) / 2}, s)
		}
	}
	if len(m.vals) == 0 {
		return
	}
	left, right := tx(-0.5), tx(float64(len(m.vals[0]))-0.5)
	for _, r := range m.breaks {
		y := ty(float64(rows-r) - 0.5)
		c.StrokeLine2(draw.LineStyle{Color: color.Gray{0x30}, Width: vg.Points(1.5)}, left, y, right, y)
	}
}

// DataRange implements plot.DataRanger.
func (m *matrix) DataRange() (xmin, xmax, ymin, ymax float64) {
	cols := 0
	if len(m.vals) > 0 {
		cols = len(m.vals[0])
	}
	return -0.5, float64(cols) - 0.5, -0.5, float64(len(m.vals)) - 0.5
}

// figure is a plot with an optional legend or colour bar drawn in a strip
// to its right, so neither ever covers data.
type figure struct {
	plot     *plot.Plot
	legend   *plot.Legend // drawn right of the plot when non-nil
	colorBar *plot.Plot   // drawn right of the plot when non-nil
	grid     *matrix      // the heatmap of a matrix figure, nil otherwise
	width    vg.Length
	height   vg.Length
}

// save renders the figure as a PNG at path.
func (f *figure) save(path string) error {
	img := vgimg.NewWith(vgimg.UseWH(f.width, f.height), vgimg.UseDPI(dpi), vgimg.UseBackgroundColor(color.White))
	dc := draw.New(img)
	main := dc
	switch {
	case f.legend != nil:
		w := f.legend.Rectangle(dc).Size().X + vg.Points(16)
		main = draw.Crop(dc, 0, -w, 0, 0)
		strip := draw.Crop(dc, f.width-w+vg.Points(8), 0, 0, -vg.Points(30))
		f.legend.Draw(strip)
	case f.colorBar != nil:
		w := vg.Points(80)
		main = draw.Crop(dc, 0, -w, 0, 0)
		// A colour bar taller than about five inches only spreads its ticks.
		pad := max(vg.Points(40), (f.height-5*vg.Inch)/2)
		strip := draw.Crop(dc, f.width-w+vg.Points(10), -vg.Points(10), pad, -pad)
		f.colorBar.Draw(strip)
	}
	// A small margin all round: gonum measures label extents tightly and
	// anti-aliased glyphs can otherwise lose a pixel column at the edge.
	f.plot.Draw(draw.Crop(main, vg.Points(6), -vg.Points(4), vg.Points(4), -vg.Points(4)))
	out, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	w := bufio.NewWriter(out)
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(w); err != nil {
		out.Close()
		return fmt.Errorf("report: %s: %w", path, err)
	}
	if err := w.Flush(); err != nil {
		out.Close()
		return fmt.Errorf("report: %s: %w", path, err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	return nil
}

// newLegend returns a legend for a strip beside the plot.
func newLegend() *plot.Legend {
	l := plot.NewLegend()
	l.Top, l.Left = true, true
	l.TextStyle.Font.Size = vg.Points(10)
	l.Padding = vg.Points(2)
	return &l
}

// colorBar returns a vertical colour bar for scale with the given label.
func colorBar(scale *ramp, label string) *plot.Plot {
	cb := plot.New()
	cb.Add(&plotter.ColorBar{ColorMap: scale, Vertical: true})
	cb.HideX()
	cb.Y.Label.Text = label
	cb.Y.Label.TextStyle.Font.Size = vg.Points(10)
	cb.Y.Tick.Label.Font.Size = vg.Points(9)
	cb.Y.Tick.Marker = niceTicks{}
	return cb
}

// rotateXLabels tilts the x tick labels so long value names do not collide.
func rotateXLabels(p *plot.Plot) {
	p.X.Tick.Label.Rotation = math.Pi / 4
	p.X.Tick.Label.XAlign = draw.XRight
	// gonum anchors tick labels at the top of the label band; aligning the
	// text's top there keeps rotated labels out of the data area.
	p.X.Tick.Label.YAlign = draw.YTop
}

// finite replaces NaN and ±Inf by 0, which gonum's plotters reject; callers
// annotate such entries separately.
func finite(xs []float64) plotter.Values {
	out := make(plotter.Values, len(xs))
	for i, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out[i] = x
		}
	}
	return out
}

// barLabels returns labels above bars at x positions offset from i by off
// (in data units), reading "n/a" for NaN values.
func barLabels(vals []float64, off float64, format string, size vg.Length) (*plotter.Labels, error) {
	xys := make(plotter.XYs, len(vals))
	labels := make([]string, len(vals))
	for i, v := range vals {
		xys[i].X = float64(i) + off
		if math.IsNaN(v) || math.IsInf(v, 0) {
			labels[i] = "n/a"
			continue
		}
		xys[i].Y = v
		labels[i] = fmt.Sprintf(format, v)
	}
	l, err := plotter.NewLabels(plotter.XYLabels{XYs: xys, Labels: labels})
	if err != nil {
		return nil, err
	}
	for i := range l.TextStyle {
		l.TextStyle[i].XAlign = draw.XCenter
		l.TextStyle[i].Font.Size = size
	}
	l.Offset = vg.Point{Y: vg.Points(2)}
	return l, nil
}

// trimZero drops the sign of a formatted number that rounds to zero, so
// tiny changes read "0.00" rather than "+0.00" or "-0.00".
func trimZero(s string) string {
	digits := strings.TrimLeft(s, "+-")
	if strings.Trim(digits, "0.") != "" {
		return s
	}
	if digits == "" {
		return "0"
	}
	return digits
}
