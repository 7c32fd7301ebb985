package report

import (
	"fmt"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/valueexploration/valueexp/valueexp/cvoice"
	"github.com/valueexploration/valueexp/valueexp/stats"
)

// englishNames returns the English names of vs.
func englishNames(vs []cvoice.Value) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.English()
	}
	return out
}

// allValues returns the 12 values in canonical order.
func allValues() []cvoice.Value {
	out := make([]cvoice.Value, cvoice.NumValues)
	for i := range out {
		out[i] = cvoice.Value(i)
	}
	return out
}

// layerFigure stacks, per layer, the number of neurons of each value's set,
// so the height of a stack is the total summed over values.
func layerFigure(counts [cvoice.NumValues][]int, layers int, title string) (*figure, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "layer"
	p.Y.Label.Text = "neurons (stacked over values)"
	leg := newLegend()
	width := vg.Points(math.Max(4, math.Min(14, 380/float64(max(layers, 1)))))
	var below *plotter.BarChart
	for v := range cvoice.NumValues {
		vals := make([]float64, layers)
		for l := range layers {
			if counts[v] != nil {
				vals[l] = float64(counts[v][l])
			}
		}
		b, err := plotter.NewBarChart(finite(vals), width)
		if err != nil {
			return nil, fmt.Errorf("report: layer figure: %w", err)
		}
		b.Color = valueColors[v]
		b.LineStyle.Width = 0
		if below != nil {
			b.StackOn(below)
		}
		below = b
		p.Add(b)
		leg.Add(cvoice.Value(v).English(), b)
	}
	ticks := make([]plot.Tick, layers)
	step := max(1, layers/16)
	for l := range layers {
		if l%step == 0 {
			ticks[l] = plot.Tick{Value: float64(l), Label: strconv.Itoa(l)}
		} else {
			ticks[l] = plot.Tick{Value: float64(l)}
		}
	}
	p.X.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Min, p.X.Max = -0.6, float64(layers)-0.4
	p.Y.Min = 0
	p.Y.Tick.Marker = integerTicks{}
	p.Add(plotter.NewGrid())
	return &figure{plot: p, legend: leg, width: 9 * vg.Inch, height: 5 * vg.Inch}, nil
}

// matrixFigure draws a heatmap with rows and columns named, annotated
// cells and a colour bar.
func matrixFigure(vals [][]float64, rowNames, colNames []string, scale *ramp, format, title, xLabel, yLabel, barLabel string, highlight func(r, c int) bool, breaks []int) *figure {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = yLabel
	cellPt := 30.0
	if len(colNames) > 12 {
		cellPt = 24
	}
	fontSize := vg.Points(9)
	if len(rowNames) > 30 {
		fontSize = vg.Points(8)
	}
	grid := &matrix{vals: vals, scale: scale, format: format, fontSize: fontSize, highlight: highlight, breaks: breaks}
	p.Add(grid)
	if len(colNames) > 0 {
		p.NominalX(colNames...)
	}
	rev := make([]string, len(rowNames))
	for i, n := range rowNames {
		rev[len(rowNames)-1-i] = n
	}
	if len(rev) > 0 {
		p.NominalY(rev...)
	}
	p.X.Padding, p.Y.Padding = vg.Points(3), vg.Points(3)
	rotateXLabels(p)
	// Size the image from the grid so cells stay square-ish and readable.
	longestRow, longestCol := 0.0, 0.0
	for _, n := range rowNames {
		longestRow = math.Max(longestRow, float64(p.Y.Tick.Label.Width(n)))
	}
	for _, n := range colNames {
		longestCol = math.Max(longestCol, float64(p.X.Tick.Label.Width(n)))
	}
	w := vg.Points(float64(len(colNames))*cellPt*1.3 + longestRow + 150)
	h := vg.Points(float64(len(rowNames))*cellPt + longestCol*0.75 + 110)
	// Wide enough for the title too, which gonum would otherwise clip.
	w = max(w, 5*vg.Inch, p.Title.TextStyle.Width(title)+vg.Points(130))
	return &figure{plot: p, grid: grid, colorBar: colorBar(scale, barLabel), width: w, height: max(h, 4*vg.Inch)}
}

// valueBarsFigure draws one bar per value (NaN shows as an "n/a" label).
func valueBarsFigure(vals []float64, title, yLabel string, yMax float64, format string, col color.Color) (*figure, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	b, err := plotter.NewBarChart(finite(vals), vg.Points(26))
	if err != nil {
		return nil, fmt.Errorf("report: bar figure: %w", err)
	}
	b.Color = col
	b.LineStyle.Width = 0
	p.Add(plotter.NewGrid(), b)
	lab, err := barLabels(vals, 0, format, vg.Points(9))
	if err != nil {
		return nil, fmt.Errorf("report: bar figure: %w", err)
	}
	p.Add(lab)
	p.NominalX(englishNames(allValues()[:len(vals)])...)
	rotateXLabels(p)
	p.Y.Min, p.Y.Max = 0, yMax
	return &figure{plot: p, width: 8 * vg.Inch, height: 4.5 * vg.Inch}, nil
}

// groupedBarsFigure draws per value one bar per series side by side, with
// the series' intervals as error bars when errs is not nil.
func groupedBarsFigure(series [][]float64, names []string, colors []color.Color, title, yLabel string, yMax float64, ref float64, errs [][]stats.Interval) (*figure, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	leg := newLegend()
	bw := vg.Points(15)
	n := len(series)
	for i, s := range series {
		b, err := plotter.NewBarChart(finite(s), bw)
		if err != nil {
			return nil, fmt.Errorf("report: grouped bars: %w", err)
		}
		b.Color = colors[i%len(colors)]
		b.LineStyle.Width = 0
		b.Offset = bw * vg.Length(float64(i)-float64(n-1)/2)
		p.Add(b)
		leg.Add(names[i], b)
		// The bar's Offset is in canvas units, so its labels and error bars
		// are placed at draw time with the same offset.
		var iv []stats.Interval
		if errs != nil {
			iv = errs[i]
			p.Add(&offsetErrorBars{ivs: iv, offset: b.Offset})
		}
		p.Add(&offsetLabels{vals: s, above: iv, offset: b.Offset, format: fmt.Sprintf("%%.%df", pointDecimals)})
	}
	if !math.IsNaN(ref) {
		l, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: ref}, {X: float64(len(series[0])) - 0.5, Y: ref}})
		if err != nil {
			return nil, fmt.Errorf("report: grouped bars: %w", err)
		}
		l.LineStyle.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		l.LineStyle.Color = color.Gray{0x60}
		p.Add(l)
		leg.Add(fmt.Sprintf("%g (indifferent)", ref), l)
	}
	p.NominalX(englishNames(allValues()[:len(series[0])])...)
	rotateXLabels(p)
	p.Y.Min, p.Y.Max = 0, yMax
	return &figure{plot: p, legend: leg, width: 9 * vg.Inch, height: 4.8 * vg.Inch}, nil
}

// offsetLabels writes each value above a bar drawn with the given Offset
// (above the top of its error bar, when there is one).
type offsetLabels struct {
	vals   []float64
	above  []stats.Interval
	offset vg.Length
	format string
}

// Plot implements plot.Plotter.
func (o *offsetLabels) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	sty := draw.TextStyle{Font: p.X.Tick.Label.Font, XAlign: draw.XCenter, YAlign: 0, Handler: plot.DefaultTextHandler, Color: color.Black}
	sty.Font.Size = vg.Points(7)
	for i, v := range o.vals {
		s, y := "n/a", 0.0
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			s, y = fmt.Sprintf(o.format, v), v
			if i < len(o.above) && o.above[i].Hi > y {
				y = o.above[i].Hi
			}
		}
		c.FillText(sty, vg.Point{X: tx(float64(i)) + o.offset, Y: ty(y) + vg.Points(2)}, s)
	}
}

// offsetErrorBars draws vertical interval bars at bars drawn with the given
// Offset; undefined intervals are skipped.
type offsetErrorBars struct {
	ivs    []stats.Interval
	offset vg.Length
}

// Plot implements plot.Plotter.
func (o *offsetErrorBars) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	sty := draw.LineStyle{Color: color.Black, Width: vg.Points(1)}
	cap := vg.Points(3)
	for i, iv := range o.ivs {
		if !isFinite(iv.Lo) || !isFinite(iv.Hi) {
			continue
		}
		x := tx(float64(i)) + o.offset
		lo, hi := ty(iv.Lo), ty(iv.Hi)
		c.StrokeLine2(sty, x, lo, x, hi)
		c.StrokeLine2(sty, x-cap, lo, x+cap, lo)
		c.StrokeLine2(sty, x-cap, hi, x+cap, hi)
	}
}

func isFinite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// errPoint is an estimate with its interval; Mark flags one that survives
// the multiple-testing correction.
type errPoint struct {
	Y, Lo, Hi float64
	Mark      bool
}

// errorBarFigure draws, for each named group on the x axis, one point with
// an error bar per series (side by side), and the dots of extra[i] (the
// random draws' own estimates) beside the last series. Marked points are
// filled and starred, others hollow. Undefined points are left out.
func errorBarFigure(groups, seriesNames []string, series [][]errPoint, extra [][]float64, title, yLabel string) (*figure, error) {
	p := plot.New()
	p.Title.Text = title
	p.Y.Label.Text = yLabel
	p.Add(plotter.NewGrid())
	leg := newLegend()
	cols := []color.Color{color.RGBA{0xd6, 0x27, 0x28, 0xff}, color.RGBA{0x31, 0x82, 0xbd, 0xff}}
	width := 0.3 // the spread of the series around a group's tick
	lo, hi := 0.0, 0.0
	for si, pts := range series {
		off := width * (float64(si)/float64(max(len(series)-1, 1)) - 0.5)
		col := cols[si%len(cols)]
		var filled, hollow plotter.XYs
		var bars plotter.XYs
		var barErr plotter.YErrors
		var starXY plotter.XYs
		var stars []string
		for i, pt := range pts {
			if !isFinite(pt.Y) {
				continue
			}
			x := float64(i) + off
			if pt.Mark {
				filled = append(filled, plotter.XY{X: x, Y: pt.Y})
			} else {
				hollow = append(hollow, plotter.XY{X: x, Y: pt.Y})
			}
			lo, hi = math.Min(lo, pt.Y), math.Max(hi, pt.Y)
			if isFinite(pt.Lo) && isFinite(pt.Hi) {
				bars = append(bars, plotter.XY{X: x, Y: pt.Y})
				barErr = append(barErr, struct{ Low, High float64 }{pt.Y - pt.Lo, pt.Hi - pt.Y})
				lo, hi = math.Min(lo, pt.Lo), math.Max(hi, pt.Hi)
			}
			if pt.Mark {
				top := pt.Y
				if isFinite(pt.Hi) {
					top = pt.Hi
				}
				starXY = append(starXY, plotter.XY{X: x, Y: top})
				stars = append(stars, "*")
			}
		}
		if len(bars) > 0 {
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYer
				plotter.YErrorer
			}{bars, barErr})
			if err != nil {
				return nil, fmt.Errorf("report: error bars: %w", err)
			}
			eb.LineStyle.Color = col
			eb.LineStyle.Width = vg.Points(1.2)
			p.Add(eb)
		}
		for _, set := range []struct {
			xys  plotter.XYs
			fill bool
		}{{filled, true}, {hollow, false}} {
			if len(set.xys) == 0 {
				continue
			}
			sc, err := plotter.NewScatter(set.xys)
			if err != nil {
				return nil, fmt.Errorf("report: error bars: %w", err)
			}
			sc.GlyphStyle.Color = col
			sc.GlyphStyle.Radius = vg.Points(3.5)
			sc.GlyphStyle.Shape = draw.RingGlyph{}
			if set.fill {
				sc.GlyphStyle.Shape = draw.CircleGlyph{}
			}
			p.Add(sc)
			if set.fill || len(filled) == 0 {
				leg.Add(seriesNames[si], sc)
			}
		}
		if len(stars) > 0 {
			l, err := plotter.NewLabels(plotter.XYLabels{XYs: starXY, Labels: stars})
			if err != nil {
				return nil, fmt.Errorf("report: error bars: %w", err)
			}
			for i := range l.TextStyle {
				l.TextStyle[i].XAlign = draw.XCenter
				l.TextStyle[i].Font.Size = vg.Points(11)
			}
			l.Offset = vg.Point{Y: vg.Points(2)}
			p.Add(l)
		}
		if si == len(series)-1 {
			var dots plotter.XYs
			for i, ys := range extra {
				for _, y := range ys {
					if isFinite(y) {
						dots = append(dots, plotter.XY{X: float64(i) + off + 0.08, Y: y})
						lo, hi = math.Min(lo, y), math.Max(hi, y)
					}
				}
			}
			if len(dots) > 0 {
				sc, err := plotter.NewScatter(dots)
				if err != nil {
					return nil, fmt.Errorf("report: error bars: %w", err)
				}
				sc.GlyphStyle.Color = color.Gray{0x80}
				sc.GlyphStyle.Radius = vg.Points(1.8)
				sc.GlyphStyle.Shape = draw.CircleGlyph{}
				p.Add(sc)
				leg.Add("vs each random draw", sc)
			}
		}
	}
	zero, err := plotter.NewLine(plotter.XYs{{X: -0.5, Y: 0}, {X: float64(len(groups)) - 0.5, Y: 0}})
	if err != nil {
		return nil, fmt.Errorf("report: error bars: %w", err)
	}
	zero.LineStyle.Color = color.Gray{0x60}
	zero.LineStyle.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
	p.Add(zero)
	p.NominalX(groups...)
	rotateXLabels(p)
	pad := math.Max(1, 0.08*(hi-lo))
	p.Y.Min, p.Y.Max = lo-pad, hi+2*pad
	p.X.Min, p.X.Max = -0.6, float64(len(groups))-0.4
	w := vg.Points(math.Max(6*72, float64(len(groups))*40+200))
	// Wide enough for the title and the legend strip, which gonum would
	// otherwise clip.
	w = max(w, p.Title.TextStyle.Width(title)+vg.Points(260))
	return &figure{plot: p, legend: leg, width: w, height: 5 * vg.Inch}, nil
}

// histogramFigure draws histograms of one or more samples on shared bins,
// as outlines, with optional vertical markers. With logY the y axis is
// logarithmic over count+1, so empty bins sit on the axis at 1.
func histogramFigure(samples [][]float64, names []string, colors []color.Color, bins int, lo, hi float64, markers []float64, markerNames []string, title, xLabel string, logY bool) (*figure, error) {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = xLabel
	p.Y.Label.Text = "neurons"
	leg := newLegend()
	if hi <= lo {
		hi = lo + 1
	}
	// On a log axis bars show log10(count+1), so empty bins sit at 0; the
	// axis is linear in that quantity, labelled in counts. (gonum's own
	// LogScale misplaces a centred axis label and leaves a gap above.)
	tr := func(n float64) float64 { return n }
	if logY {
		tr = func(n float64) float64 { return math.Log10(n + 1) }
		p.Y.Tick.Marker = logCountTicks{}
		p.Y.Label.Text = "neurons (log scale)"
	}
	width := (hi - lo) / float64(bins)
	ymax := 1.0
	for i, s := range samples {
		counts := make([]float64, bins)
		for _, x := range s {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				continue
			}
			// The tiny nudge keeps values on a bin edge (0.3 with width
			// 0.1) in the bin they start, despite rounding.
			k := int(math.Floor((x-lo)/width + 1e-9))
			k = max(0, min(bins-1, k))
			counts[k]++
		}
		xys := make(plotter.XYs, 0, 2*bins+2)
		xys = append(xys, plotter.XY{X: lo, Y: 0})
		for k, n := range counts {
			xys = append(xys, plotter.XY{X: lo + float64(k)*width, Y: tr(n)}, plotter.XY{X: lo + float64(k+1)*width, Y: tr(n)})
			ymax = math.Max(ymax, n)
		}
		xys = append(xys, plotter.XY{X: hi, Y: 0})
		l, err := plotter.NewLine(xys)
		if err != nil {
			return nil, fmt.Errorf("report: histogram: %w", err)
		}
		l.LineStyle.Color = colors[i%len(colors)]
		// Earlier samples are drawn wider, so a later subset that coincides
		// with them still leaves them visible.
		l.LineStyle.Width = vg.Points(1.5 + 1.5*float64(len(samples)-1-i))
		p.Add(l)
		leg.Add(names[i], l)
	}
	top := ymax * 1.1
	if logY {
		top = math.Ceil(math.Log10(ymax*1.5) + 0.01)
	}
	for i, m := range markers {
		if math.IsNaN(m) || math.IsInf(m, 0) {
			continue
		}
		l, err := plotter.NewLine(plotter.XYs{{X: m, Y: 0}, {X: m, Y: top}})
		if err != nil {
			return nil, fmt.Errorf("report: histogram: %w", err)
		}
		l.LineStyle.Color = color.RGBA{0xd6, 0x27, 0x28, 0xff}
		l.LineStyle.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
		l.LineStyle.Width = vg.Points(1.5)
		p.Add(l)
		leg.Add(markerNames[i], l)
	}
	p.Y.Min, p.Y.Max = 0, top
	p.X.Min, p.X.Max = lo, hi
	p.Add(plotter.NewGrid())
	return &figure{plot: p, legend: leg, width: 9 * vg.Inch, height: 4.5 * vg.Inch}, nil
}

// integerTicks label a count axis at about five round whole numbers (steps
// of 1, 2 or 5 times a power of ten), with a minor tick between labels.
type integerTicks struct{}

// Ticks implements plot.Ticker.
func (integerTicks) Ticks(lo, hi float64) []plot.Tick {
	return roundTicks(lo, hi, 1)
}

// niceTicks label any axis at about five round numbers.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	return roundTicks(lo, hi, 0)
}

// roundTicks returns labelled ticks at multiples of a step of 1, 2 or 5
// times a power of ten (at least minStep when positive) giving about five
// labels over [lo, hi], with a minor tick halfway.
func roundTicks(lo, hi, minStep float64) []plot.Tick {
	span := hi - lo
	if !(span > 0) || math.IsInf(span, 0) {
		return []plot.Tick{{Value: lo, Label: strconv.FormatFloat(lo, 'g', 4, 64)}}
	}
	mag := math.Pow(10, math.Floor(math.Log10(span/6)))
	step := 10 * mag
	for _, m := range []float64{1, 2, 5} {
		if m*mag*6 >= span {
			step = m * mag
			break
		}
	}
	step = math.Max(step, minStep)
	decimals := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	var ticks []plot.Tick
	for i := math.Ceil(lo/step - 1e-9); i*step <= hi+1e-9*step; i++ {
		v := i * step
		label := trimZero(strconv.FormatFloat(v, 'f', decimals, 64))
		if strings.Contains(label, ".") {
			label = strings.TrimSuffix(strings.TrimRight(label, "0"), ".")
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label})
		if half := v + step/2; (minStep == 0 || step > minStep) && half <= hi {
			ticks = append(ticks, plot.Tick{Value: half})
		}
	}
	return ticks
}

// logCountTicks label an axis of log10(count+1) in counts: 0, 1, 10, 100,
// 1k … at whole decades, with unlabelled minor ticks between.
type logCountTicks struct{}

// Ticks implements plot.Ticker.
func (logCountTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := []plot.Tick{{Value: 0, Label: "0"}}
	for k := 0.0; math.Log10(math.Pow(10, k)+1) <= hi; k++ {
		d := math.Pow(10, k)
		ticks = append(ticks, plot.Tick{Value: math.Log10(d + 1), Label: countLabel(d)})
		for m := 2.0; m < 10; m++ {
			if v := math.Log10(m*d + 1); v <= hi {
				ticks = append(ticks, plot.Tick{Value: v})
			}
		}
	}
	return ticks
}

// countLabel writes a power of ten compactly: 1, 10, 100, 1k, 10k, 1M.
func countLabel(v float64) string {
	switch {
	case v >= 1e9:
		return strconv.FormatFloat(v/1e9, 'f', -1, 64) + "G"
	case v >= 1e6:
		return strconv.FormatFloat(v/1e6, 'f', -1, 64) + "M"
	case v >= 1e3:
		return strconv.FormatFloat(v/1e3, 'f', -1, 64) + "k"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}
