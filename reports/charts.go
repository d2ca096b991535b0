package reports

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"image/color"
	"math"
	"regexp"
	"strings"
	"sync"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"

	"aviary.dev/aviary/engine"
	"aviary.dev/aviary/engine/analysis"
	"aviary.dev/aviary/sim/scenario"
)

// Charts are drawn with gonum/plot onto its SVG canvas and inlined in the page. The
// canvas size is in points; the page scales each chart to its column width.
const (
	chartWidth     = 640
	timelineHeight = 225
	metricHeight   = 180
	// plotAreaWidth approximates the data area's width (chart minus axes), used to
	// keep marker labels from overlapping.
	plotAreaWidth = chartWidth - 70
)

// sans is the charts' typeface. gonum measures text with its embedded Liberation
// fonts; the page's SVG text asks for "Liberation Sans" and falls back to the
// system's sans-serif (see fontFamilyRE).
var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

func setFont(st *text.Style, size float64) { st.Font = font.From(sans, vg.Points(size)) }

// Colours (hex in comments) chosen to stay apart for common colour-vision deficiencies;
// every kind also has its own marker shape and a text label.
var (
	colCanary   = rgb(0xd9, 0x5f, 0x02) // #d95f02
	colPrimary  = rgb(0x1b, 0x6e, 0xc2) // #1b6ec2
	colPass     = rgb(0x1a, 0x7f, 0x37) // #1a7f37
	colFail     = rgb(0xcf, 0x22, 0x2e) // #cf222e
	colNaN      = rgb(0xe3, 0x62, 0x09) // #e36209
	colNoData   = rgb(0x57, 0x60, 0x6a) // #57606a
	colError    = rgb(0xa3, 0x1f, 0x8c) // #a31f8c
	colBand     = color.NRGBA{R: 0x1a, G: 0x7f, B: 0x37, A: 0x22}
	colBound    = rgb(0x1a, 0x7f, 0x37)
	colLane     = rgb(0xf3, 0xf4, 0xf6)
	colGrid     = rgb(0xe1, 0xe4, 0xe8)
	colMarkLine = color.NRGBA{R: 0x24, G: 0x29, B: 0x2f, A: 0x70}
	colNewRev   = rgb(0x82, 0x50, 0xdf) // #8250df
	colGate     = rgb(0xbf, 0x87, 0x00) // #bf8700
	colPromote  = rgb(0x1a, 0x7f, 0x37)
	colRollback = rgb(0xcf, 0x22, 0x2e)
	colText     = rgb(0x24, 0x29, 0x2f)
	colExposure = rgb(0x0b, 0x72, 0x85) // #0b7285
	colMirror   = rgb(0x6e, 0x77, 0x81) // #6e7781
	colBaseline = rgb(0x1b, 0x6e, 0xc2) // the primary's colour
)

func rgb(r, g, b uint8) color.NRGBA { return color.NRGBA{R: r, G: g, B: b, A: 0xff} }

// phaseColours tint the timeline's phase bands.
var phaseColours = map[string]color.NRGBA{
	"Initializing":     rgb(0xee, 0xef, 0xf1),
	"Initialized":      rgb(0xf6, 0xf7, 0xf8),
	"Progressing":      rgb(0xdd, 0xeb, 0xfb),
	"Waiting":          rgb(0xff, 0xf1, 0xc2),
	"WaitingPromotion": rgb(0xff, 0xf1, 0xc2),
	"Promoting":        rgb(0xd3, 0xf2, 0xe3),
	"Finalising":       rgb(0xbf, 0xe9, 0xd6),
	"Succeeded":        rgb(0xe3, 0xf5, 0xe1),
	"Failed":           rgb(0xfd, 0xe0, 0xdf),
	"Terminating":      rgb(0xee, 0xef, 0xf1),
	"Terminated":       rgb(0xee, 0xef, 0xf1),
}

func phaseColour(phase string) color.NRGBA {
	if c, ok := phaseColours[phase]; ok {
		return c
	}
	return rgb(0xf3, 0xf4, 0xf6)
}

// Marker shapes. gonum's ring and cross are drawn with hairlines; these are the
// same shapes with a visible stroke, plus a diamond.
type (
	diamondGlyph struct{}
	ringGlyph    struct{}
	crossGlyph   struct{}
)

func (diamondGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	r := sty.Radius * 1.25
	p := vg.Path{}
	p.Move(vg.Point{X: pt.X, Y: pt.Y + r})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y})
	p.Line(vg.Point{X: pt.X, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X - r, Y: pt.Y})
	p.Close()
	c.SetColor(sty.Color)
	c.Fill(p)
}

func (ringGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(1.6)})
	p := vg.Path{}
	p.Move(vg.Point{X: pt.X + sty.Radius, Y: pt.Y})
	p.Arc(pt, sty.Radius, 0, 2*math.Pi)
	p.Close()
	c.Stroke(p)
}

func (crossGlyph) DrawGlyph(c *draw.Canvas, sty draw.GlyphStyle, pt vg.Point) {
	c.SetLineStyle(draw.LineStyle{Color: sty.Color, Width: vg.Points(2)})
	r := sty.Radius
	p := vg.Path{}
	p.Move(vg.Point{X: pt.X - r, Y: pt.Y - r})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y + r})
	c.Stroke(p)
	p = vg.Path{}
	p.Move(vg.Point{X: pt.X - r, Y: pt.Y + r})
	p.Line(vg.Point{X: pt.X + r, Y: pt.Y - r})
	c.Stroke(p)
}

// Glyphs of metric outcomes and timeline markers.
var (
	glyphPass     = draw.GlyphStyle{Color: colPass, Radius: vg.Points(3.5), Shape: draw.CircleGlyph{}}
	glyphFail     = draw.GlyphStyle{Color: colFail, Radius: vg.Points(4.5), Shape: draw.PyramidGlyph{}}
	glyphNaN      = draw.GlyphStyle{Color: colNaN, Radius: vg.Points(4.5), Shape: diamondGlyph{}}
	glyphNoData   = draw.GlyphStyle{Color: colNoData, Radius: vg.Points(4), Shape: ringGlyph{}}
	glyphError    = draw.GlyphStyle{Color: colError, Radius: vg.Points(4), Shape: crossGlyph{}}
	glyphNewRev   = draw.GlyphStyle{Color: colNewRev, Radius: vg.Points(4.5), Shape: draw.BoxGlyph{}}
	glyphGate     = draw.GlyphStyle{Color: colGate, Radius: vg.Points(4), Shape: ringGlyph{}}
	glyphPromote  = draw.GlyphStyle{Color: colPromote, Radius: vg.Points(5), Shape: draw.PyramidGlyph{}}
	glyphRollback = draw.GlyphStyle{Color: colRollback, Radius: vg.Points(4.5), Shape: crossGlyph{}}
	glyphBaseline = draw.GlyphStyle{Color: colBaseline, Radius: vg.Points(2.5), Shape: draw.BoxGlyph{}}
)

// Line styles of the traffic chart's exposure lines and the metric charts' baseline.
var (
	exposureDashes = []vg.Length{vg.Points(1.5), vg.Points(2.5)}
	mirrorDashes   = []vg.Length{vg.Points(6), vg.Points(3)}
	baselineDashes = []vg.Length{vg.Points(4), vg.Points(2.5)}
)

var markerGlyphs = map[string]draw.GlyphStyle{
	markNewRevision: glyphNewRev,
	markGate:        glyphGate,
	markPromotion:   glyphPromote,
	markRollback:    glyphRollback,
}

// markerOrder is the order markers are listed in legends.
var markerOrder = []string{markNewRevision, markGate, markPromotion, markRollback}

// timeRange is the x range shared by a scenario's charts, in minutes.
type timeRange struct{ min, max float64 }

func minutes(d time.Duration) float64 { return d.Minutes() }

// perPoint is how many x units one point of the data area spans.
func (r timeRange) perPoint() float64 { return (r.max - r.min) / plotAreaWidth }

// timeTicks labels the virtual-time axis in whole minutes ("0m", "2m", ...), with a
// step that keeps about a dozen labels.
func timeTicks(min, max float64) []plot.Tick {
	steps := []float64{0.5, 1, 2, 5, 10, 15, 30, 60, 120, 240}
	step := steps[len(steps)-1]
	for _, s := range steps {
		if (max-min)/s <= 16 {
			step = s
			break
		}
	}
	var ticks []plot.Tick
	for v := math.Ceil(min/step) * step; v <= max+1e-9; v += step {
		lbl := engine.FormatDuration(time.Duration(v * float64(time.Minute)))
		if v == 0 {
			lbl = "0"
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: lbl})
	}
	return ticks
}

// newPlot makes a plot with the report's fonts, grid and time axis.
func newPlot(xr timeRange, yLabel string) *plot.Plot {
	p := plot.New()
	setFont(&p.Title.TextStyle, 11)
	setFont(&p.X.Label.TextStyle, 9.5)
	setFont(&p.Y.Label.TextStyle, 9.5)
	setFont(&p.X.Tick.Label, 9)
	setFont(&p.Y.Tick.Label, 9)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Color = colText
		a.Tick.Label.Color = colText
		a.LineStyle.Color = colNoData
		a.Tick.LineStyle.Color = colNoData
		a.Tick.Length = vg.Points(4)
	}
	p.X.Min, p.X.Max = xr.min, xr.max
	p.X.Label.Text = "virtual time"
	p.X.Tick.Marker = plot.TickerFunc(timeTicks)
	p.Y.Label.Text = yLabel
	g := plotter.NewGrid()
	g.Vertical.Color = colGrid
	g.Horizontal.Color = colGrid
	p.Add(g)
	return p
}

func rect(x0, x1, y0, y1 float64, c color.Color) *plotter.Polygon {
	poly, _ := plotter.NewPolygon(plotter.XYs{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}})
	poly.Color = c
	poly.LineStyle.Width = 0
	return poly
}

func scatter(xys plotter.XYs, g draw.GlyphStyle) *plotter.Scatter {
	s, _ := plotter.NewScatter(xys)
	s.GlyphStyle = g
	return s
}

func line(xys plotter.XYs, c color.Color, width float64, dashes ...vg.Length) *plotter.Line {
	l, _ := plotter.NewLine(xys)
	l.Color = c
	l.Width = vg.Points(width)
	l.Dashes = dashes
	return l
}

// label is one text label in a chart.
type label struct {
	x, y   float64
	text   string
	colour color.Color
	size   float64
	xAlign draw.XAlignment
	yAlign draw.YAlignment
}

func labels(ls []label, offset vg.Point) *plotter.Labels {
	xyl := plotter.XYLabels{}
	for _, l := range ls {
		xyl.XYs = append(xyl.XYs, plotter.XY{X: l.x, Y: l.y})
		xyl.Labels = append(xyl.Labels, l.text)
	}
	pl, _ := plotter.NewLabels(xyl)
	for i, l := range ls {
		st := &pl.TextStyle[i]
		size := l.size
		if size == 0 {
			size = 8.5
		}
		setFont(st, size)
		st.Color = l.colour
		st.XAlign, st.YAlign = l.xAlign, l.yAlign
	}
	pl.Offset = offset
	return pl
}

// spacedLabels keeps the labels that would not overlap the previous kept label of
// the same row (labels start lead points right of their x; a character is about
// 0.55 of the font size wide), so dense ticks do not print over each other.
func spacedLabels(ls []label, xr timeRange, lead float64) []label {
	end := map[float64]float64{} // row -> x where the previous label ends
	var out []label
	for _, l := range ls {
		size := l.size
		if size == 0 {
			size = 8.5
		}
		if prev, ok := end[l.y]; ok && l.x+lead*xr.perPoint() < prev {
			continue
		}
		end[l.y] = l.x + (lead+float64(len(l.text))*size*0.55+8)*xr.perPoint()
		out = append(out, l)
	}
	return out
}

// phaseSegment is a stretch of virtual time in one phase.
type phaseSegment struct {
	phase    string
	from, to float64
}

func phaseSegments(ticks scenario.TickList, xr timeRange) []phaseSegment {
	var segs []phaseSegment
	for i := range ticks.Len() {
		t := ticks.At(i)
		from := minutes(at(t))
		to := xr.max
		if i+1 < ticks.Len() {
			to = minutes(at(ticks.At(i + 1)))
		}
		if to <= from {
			continue
		}
		phase := t.Phase
		if n := len(segs); n > 0 && segs[n-1].phase == phase && segs[n-1].to == from {
			segs[n-1].to = to
			continue
		}
		segs = append(segs, phaseSegment{phase: phase, from: from, to: to})
	}
	return segs
}

// timelineMarker is one marker on the timeline.
type timelineMarker struct {
	kind  string
	x     float64
	label string
}

func timelineMarkers(ticks scenario.TickList) []timelineMarker {
	var out []timelineMarker
	lastGate := -2
	for i := range ticks.Len() {
		t := ticks.At(i)
		seen := map[string]bool{}
		for _, e := range t.Events {
			k := markerOf(e.Message)
			if k == "" || seen[k] {
				continue
			}
			seen[k] = true
			m := timelineMarker{kind: k, x: minutes(at(t)), label: k}
			if k == markGate {
				// A gate holds tick after tick: label the first of a run only.
				if lastGate == i-1 {
					m.label = ""
				}
				lastGate = i
			}
			out = append(out, m)
		}
	}
	return out
}

// Timeline chart geometry (weight units): data 0..100, phase names in a lane above
// it, markers in the lane above that.
const (
	tlPhaseLane = 108
	tlBandTop   = 114
	tlMarkLane  = 122
	tlTop       = 130
)

// exposureLines are the canary's share of user requests and the mirrored copies'
// share (nil when none was mirrored), in percent, as steps: the figure recorded at
// a tick (or the last tick of a repeated record) holds from the previous figure's
// time to it. A stretch without user requests is a gap.
func exposureLines(exposure []scenario.TickExposure) (served, mirrored []plotter.XYs) {
	anyMirrored := false
	for _, e := range exposure {
		anyMirrored = anyMirrored || e.MirroredRequests > 0
	}
	var s, m plotter.XYs
	cut := func() {
		if len(s) > 0 {
			served = append(served, s)
		}
		if len(m) > 0 {
			mirrored = append(mirrored, m)
		}
		s, m = nil, nil
	}
	for i := 1; i < len(exposure); i++ {
		e := exposure[i]
		if e.CanaryShare == nil {
			cut()
			continue
		}
		x0, x1 := minutes(exposure[i-1].At.Sub(scenario.Epoch)), minutes(e.At.Sub(scenario.Epoch))
		s = append(s, plotter.XY{X: x0, Y: *e.CanaryShare}, plotter.XY{X: x1, Y: *e.CanaryShare})
		if anyMirrored {
			share := math.Min(100, 100*e.MirroredRequests/(e.PrimaryRequests+e.CanaryRequests))
			m = append(m, plotter.XY{X: x0, Y: share}, plotter.XY{X: x1, Y: share})
		}
	}
	cut()
	return served, mirrored
}

// timelineChart draws canary and primary weight over virtual time, with phase bands
// and markers for new revisions, gates, promotions and rollbacks, and the share of
// user requests the canary served (which A/B routes, rps faults and pods that are
// not ready make differ from its weight), and that of mirrored copies.
func timelineChart(ticks scenario.TickList, exposure []scenario.TickExposure, xr timeRange, title string) (template.HTML, error) {
	p := newPlot(xr, "traffic weight %")
	p.Y.Min, p.Y.Max = 0, tlTop
	p.Y.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		var t []plot.Tick
		for v := 0.0; v <= 100; v += 10 {
			lbl := ""
			if int(v)%20 == 0 {
				lbl = fmt.Sprint(v)
			}
			t = append(t, plot.Tick{Value: v, Label: lbl})
		}
		return t
	})
	var phaseLabels []label
	for _, s := range phaseSegments(ticks, xr) {
		p.Add(rect(s.from, s.to, 0, tlBandTop, phaseColour(s.phase)))
		// Name the phase inside its band when the name fits (about 4.6 pt per character).
		if (s.to-s.from)/xr.perPoint() >= float64(len(s.phase))*4.6+6 {
			phaseLabels = append(phaseLabels, label{x: s.from, y: tlPhaseLane, text: s.phase, colour: colText, size: 8, yAlign: draw.YCenter})
		}
	}
	var canary, primary plotter.XYs
	for t := range ticks.All() {
		x := minutes(at(t))
		canary = append(canary, plotter.XY{X: x, Y: float64(t.CanaryWeight)})
		primary = append(primary, plotter.XY{X: x, Y: float64(t.PrimaryWeight)})
	}
	markers := timelineMarkers(ticks)
	for _, m := range markers {
		p.Add(line(plotter.XYs{{X: m.x, Y: 0}, {X: m.x, Y: tlMarkLane}}, colMarkLine, 0.8, vg.Points(3), vg.Points(2)))
	}
	if ticks.Len() > 0 {
		last := ticks.At(ticks.Len() - 1)
		canary = append(canary, plotter.XY{X: xr.max, Y: float64(last.CanaryWeight)})
		primary = append(primary, plotter.XY{X: xr.max, Y: float64(last.PrimaryWeight)})
		pl := line(primary, colPrimary, 2.2)
		pl.StepStyle = plotter.PostStep
		cl := line(canary, colCanary, 2.2)
		cl.StepStyle = plotter.PostStep
		p.Add(pl, cl)
	}
	served, mirrored := exposureLines(exposure)
	for _, m := range mirrored {
		p.Add(line(m, colMirror, 1.4, mirrorDashes...))
	}
	for _, s := range served {
		p.Add(line(s, colExposure, 2.4, exposureDashes...))
	}
	var markLabels []label
	for _, kind := range markerOrder {
		var xys plotter.XYs
		for _, m := range markers {
			if m.kind != kind {
				continue
			}
			xys = append(xys, plotter.XY{X: m.x, Y: tlMarkLane})
			if m.label != "" {
				markLabels = append(markLabels, label{x: m.x, y: tlMarkLane, text: m.label, colour: markerGlyphs[kind].Color, size: 8.5, yAlign: draw.YCenter})
			}
		}
		if len(xys) > 0 {
			p.Add(scatter(xys, markerGlyphs[kind]))
		}
	}
	if len(phaseLabels) > 0 {
		p.Add(labels(phaseLabels, vg.Point{X: vg.Points(3)}))
	}
	if len(markLabels) > 0 {
		sortLabelsByX(markLabels)
		p.Add(labels(spacedLabels(markLabels, xr, 7), vg.Point{X: vg.Points(7)}))
	}
	return renderSVG(p, chartWidth, timelineHeight, title)
}

func sortLabelsByX(ls []label) {
	for i := 1; i < len(ls); i++ {
		for j := i; j > 0 && ls[j].x < ls[j-1].x; j-- {
			ls[j], ls[j-1] = ls[j-1], ls[j]
		}
	}
}

// metricPoint is one evaluation of a metric.
type metricPoint struct {
	x float64
	r analysis.Result
}

// outcomeKind classifies a metric result for drawing: pass, fail, nan, nodata, error.
func outcomeKind(r analysis.Result) string {
	switch {
	case r.NaN:
		return "nan"
	case r.Outcome == analysis.OutcomeNoData:
		return "nodata"
	case r.Outcome == analysis.OutcomeError:
		return "error"
	case r.Value == nil:
		return "error"
	case r.Outcome == analysis.OutcomePass:
		return "pass"
	}
	return "fail"
}

var kindGlyphs = map[string]draw.GlyphStyle{
	"pass": glyphPass, "fail": glyphFail, "nan": glyphNaN, "nodata": glyphNoData, "error": glyphError,
}

var kindLabels = map[string]string{"nan": "NaN", "nodata": "no data", "error": "error"}

// kindOrder is the order outcome kinds are listed in legends.
var kindOrder = []string{"pass", "fail", "nan", "nodata", "error"}

// boundsChange is a threshold in force from x on.
type boundsChange struct {
	x        float64
	min, max *float64
}

func thresholdHistory(points []metricPoint) []boundsChange {
	var out []boundsChange
	for _, p := range points {
		if p.r.Min == nil && p.r.Max == nil {
			continue // no-data, NaN and error results carry no bounds
		}
		if n := len(out); n > 0 && eqPtr(out[n-1].min, p.r.Min) && eqPtr(out[n-1].max, p.r.Max) {
			continue
		}
		out = append(out, boundsChange{x: p.x, min: p.r.Min, max: p.r.Max})
	}
	return out
}

func eqPtr(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func finite(v *float64) bool { return v != nil && !math.IsNaN(*v) && !math.IsInf(*v, 0) }

// metricChart draws one metric's value at each analysis tick against its threshold
// band. Checks without a value sit in a lane under the data area, each with its own
// marker and a text label: NaN (diamond), no data (ring), error (cross); infinite
// values are drawn in that lane too, labelled +Inf / -Inf.
//
// baseline, when not empty, is the same query's value against the primary at each
// tick: a dashed line with small squares, broken where a tick has none.
func metricChart(points []metricPoint, baseline []baselinePoint, xr timeRange, yLabel, title string, interval float64) (template.HTML, error) {
	history := thresholdHistory(points)
	lo, hi := math.Inf(1), math.Inf(-1)
	extend := func(v float64) { lo, hi = math.Min(lo, v), math.Max(hi, v) }
	for _, p := range points {
		if finite(p.r.Value) && !p.r.NaN {
			extend(*p.r.Value)
		}
	}
	for _, b := range baseline {
		if finite(b.value) {
			extend(*b.value)
		}
	}
	for _, h := range history {
		if finite(h.min) {
			extend(*h.min)
		}
		if finite(h.max) {
			extend(*h.max)
		}
	}
	if math.IsInf(lo, 0) {
		lo, hi = 0, 1
	}
	span := hi - lo
	if span == 0 {
		span = math.Max(math.Abs(hi)*0.2, 1)
		lo, hi = lo-span/2, hi+span/2
	}
	dataLo, dataHi := lo-0.08*span, hi+0.12*span
	laneTop := dataLo - 0.04*span
	laneY := dataLo - 0.16*span
	bottom := dataLo - 0.28*span
	withLane := needsLane(points)
	if !withLane {
		laneTop, bottom = dataLo, dataLo
	}

	p := newPlot(xr, yLabel)
	p.Y.Min, p.Y.Max = bottom, dataHi
	valued := hasValue(points)
	scaled := valued
	for _, b := range baseline {
		scaled = scaled || finite(b.value)
	}
	p.Y.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		var out []plot.Tick
		if !scaled && len(history) == 0 {
			return nil // no scale to show
		}
		for _, t := range (plot.DefaultTicks{}).Ticks(dataLo, dataHi) {
			if t.Value >= dataLo-1e-12 && t.Value <= dataHi+1e-12 {
				out = append(out, t)
			}
		}
		return out
	})
	if withLane {
		p.Add(rect(xr.min, xr.max, bottom, laneTop, colLane))
	}

	// Threshold band (accepted range) and its bounds.
	var boundLabels []label
	for i, h := range history {
		from, to := h.x, xr.max
		if i == 0 {
			from = xr.min
		}
		if i+1 < len(history) {
			to = history[i+1].x
		}
		bLo, bHi := dataLo, dataHi
		if finite(h.min) {
			bLo = *h.min
		}
		if finite(h.max) {
			bHi = *h.max
		}
		p.Add(rect(from, to, bLo, bHi, colBand))
		if finite(h.min) {
			p.Add(line(plotter.XYs{{X: from, Y: *h.min}, {X: to, Y: *h.min}}, colBound, 1.2, vg.Points(5), vg.Points(3)))
			boundLabels = append(boundLabels, label{x: to, y: *h.min, text: "min " + formatFloat(*h.min), colour: colBound, xAlign: draw.XRight, yAlign: draw.YTop})
		}
		if finite(h.max) {
			p.Add(line(plotter.XYs{{X: from, Y: *h.max}, {X: to, Y: *h.max}}, colBound, 1.2, vg.Points(5), vg.Points(3)))
			boundLabels = append(boundLabels, label{x: to, y: *h.max, text: "max " + formatFloat(*h.max), colour: colBound, xAlign: draw.XRight})
		}
	}

	// Strips behind checks without a value, values joined by a line where consecutive.
	half := interval / 4
	if half <= 0 || half*2 > (xr.max-xr.min)/10 {
		half = (xr.max - xr.min) / 80
	}
	byKind := map[string]plotter.XYs{}
	var laneMarks []label
	var run plotter.XYs
	flush := func() {
		if len(run) > 1 {
			p.Add(line(run, color.NRGBA{R: 0x57, G: 0x60, B: 0x6a, A: 0x99}, 1))
		}
		run = nil
	}
	for _, pt := range points {
		kind := outcomeKind(pt.r)
		switch {
		case kind == "pass" || kind == "fail":
			v := *pt.r.Value
			if math.IsInf(v, 0) {
				flush()
				byKind[kind] = append(byKind[kind], plotter.XY{X: pt.x, Y: laneY})
				laneMarks = append(laneMarks, label{x: pt.x, y: laneY, text: fmt.Sprintf("%+v", v), colour: kindGlyphs[kind].Color})
				continue
			}
			if n := len(run); n > 0 && interval > 0 && pt.x-run[n-1].X > 1.5*interval {
				flush() // checks were skipped in between (e.g. an analysis restart)
			}
			run = append(run, plotter.XY{X: pt.x, Y: v})
			byKind[kind] = append(byKind[kind], plotter.XY{X: pt.x, Y: v})
		default:
			flush()
			c := kindGlyphs[kind].Color.(color.NRGBA)
			c.A = 0x30
			p.Add(rect(pt.x-half, pt.x+half, laneTop, dataHi, c))
			byKind[kind] = append(byKind[kind], plotter.XY{X: pt.x, Y: laneY})
			laneMarks = append(laneMarks, label{x: pt.x, y: laneY, text: kindLabels[kind], colour: kindGlyphs[kind].Color})
		}
	}
	flush()
	addBaseline(p, baseline, interval)
	for _, kind := range kindOrder {
		if xys := byKind[kind]; len(xys) > 0 {
			p.Add(scatter(xys, kindGlyphs[kind]))
		}
	}
	if len(boundLabels) > 0 {
		p.Add(labels(boundLabels, vg.Point{X: vg.Points(-4), Y: vg.Points(2)}))
	}
	if withLane {
		lane := []label{{x: xr.min, y: laneY, text: "no value", colour: colNoData, size: 7.5, yAlign: draw.YCenter}}
		p.Add(labels(lane, vg.Point{X: vg.Points(3)}))
	}
	if len(laneMarks) > 0 {
		for i := range laneMarks {
			laneMarks[i].size = 8.5
			laneMarks[i].yAlign = draw.YCenter
		}
		p.Add(labels(spacedLabels(laneMarks, xr, 6.5), vg.Point{X: vg.Points(6.5)}))
	}
	if !valued {
		p.Add(labels([]label{{x: (xr.min + xr.max) / 2, y: (dataLo + dataHi) / 2, text: "no check returned a value",
			colour: colNoData, size: 10, xAlign: draw.XCenter, yAlign: draw.YCenter}}, vg.Point{}))
	}
	return renderSVG(p, chartWidth, metricHeight, title)
}

// baselinePoint is a metric's query against the primary at one tick; value is nil
// when it returned nothing usable.
type baselinePoint struct {
	x     float64
	value *float64
}

// addBaseline draws the baseline: a dashed line through consecutive ticks' values
// (broken by a tick without one, or by skipped ticks) and a small square at each.
func addBaseline(p *plot.Plot, baseline []baselinePoint, interval float64) {
	var run, all plotter.XYs
	flush := func() {
		if len(run) > 1 {
			p.Add(line(run, colBaseline, 1.3, baselineDashes...))
		}
		run = nil
	}
	for _, b := range baseline {
		if !finite(b.value) {
			flush()
			continue
		}
		if n := len(run); n > 0 && interval > 0 && b.x-run[n-1].X > 1.5*interval {
			flush()
		}
		run = append(run, plotter.XY{X: b.x, Y: *b.value})
		all = append(all, plotter.XY{X: b.x, Y: *b.value})
	}
	flush()
	if len(all) > 0 {
		p.Add(scatter(all, glyphBaseline))
	}
}

// needsLane is true when some check has no finite value to plot.
func needsLane(points []metricPoint) bool {
	for _, p := range points {
		if !finite(p.r.Value) || p.r.NaN {
			return true
		}
	}
	return false
}

func hasValue(points []metricPoint) bool {
	for _, p := range points {
		if finite(p.r.Value) && !p.r.NaN {
			return true
		}
	}
	return false
}

var (
	svgOpenRE    = regexp.MustCompile(`(?s)^.*?<svg\b[^>]*\bviewBox="([^"]*)"[^>]*>`)
	fontFamilyRE = regexp.MustCompile(`font-family:Liberation Sans;`)
)

// renderSVG draws p and returns the SVG element ready to inline in HTML: no XML
// prolog or comment, no namespace declarations (HTML's parser puts <svg> in the SVG
// namespace), sized by the page through its viewBox, with an accessible title, and
// a font list that falls back to the system's sans-serif.
func renderSVG(p *plot.Plot, w, h vg.Length, title string) (template.HTML, error) {
	c := vgsvg.New(w, h)
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", err
	}
	return inlineSVG(buf.String(), "chart", title)
}

func inlineSVG(svg, class, title string) (template.HTML, error) {
	m := svgOpenRE.FindStringSubmatchIndex(svg)
	if m == nil {
		return "", fmt.Errorf("unexpected SVG from the plotting library: %.80q", svg)
	}
	viewBox := svg[m[2]:m[3]]
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="%s" viewBox="%s"`, class, viewBox)
	if f := strings.Fields(viewBox); class == "swatch" && len(f) == 4 {
		fmt.Fprintf(&b, ` width="%s" height="%s"`, f[2], f[3])
	} else {
		b.WriteString(` role="img"`)
	}
	if title != "" {
		fmt.Fprintf(&b, ` aria-label="%s"><title>%s</title>`, html.EscapeString(title), html.EscapeString(title))
	} else {
		b.WriteString(` aria-hidden="true">`)
	}
	body := fontFamilyRE.ReplaceAllString(svg[m[1]:], `font-family:'Liberation Sans',Arimo,Arial,Helvetica,sans-serif;`)
	b.WriteString(strings.TrimSpace(body))
	return template.HTML(b.String()), nil
}

// Legend swatches, drawn by gonum like the charts and cached.
var swatches = sync.OnceValue(func() map[string]template.HTML {
	out := map[string]template.HTML{}
	glyph := func(key string, g draw.GlyphStyle) {
		c := vgsvg.New(14, 14)
		dc := draw.New(c)
		dc.DrawGlyph(g, vg.Point{X: 7, Y: 7})
		out[key] = mustSwatch(c)
	}
	for k, g := range kindGlyphs {
		glyph("outcome-"+k, g)
	}
	for k, g := range markerGlyphs {
		glyph("marker-"+k, g)
	}
	lineSwatch := func(key string, clr color.Color, width float64, dashes ...vg.Length) {
		c := vgsvg.New(24, 14)
		dc := draw.New(c)
		dc.StrokeLine2(draw.LineStyle{Color: clr, Width: vg.Points(width), Dashes: dashes}, 1, 7, 23, 7)
		out[key] = mustSwatch(c)
	}
	lineSwatch("canary", colCanary, 2.2)
	lineSwatch("primary", colPrimary, 2.2)
	lineSwatch("bound", colBound, 1.2, vg.Points(5), vg.Points(3))
	lineSwatch("exposure", colExposure, 2.4, exposureDashes...)
	lineSwatch("mirrored", colMirror, 1.4, mirrorDashes...)
	c := vgsvg.New(24, 14)
	dc := draw.New(c)
	dc.StrokeLine2(draw.LineStyle{Color: colBaseline, Width: vg.Points(1.3), Dashes: baselineDashes}, 1, 7, 23, 7)
	dc.DrawGlyph(glyphBaseline, vg.Point{X: 12, Y: 7})
	out["baseline"] = mustSwatch(c)
	box := func(key string, clr color.Color) {
		c := vgsvg.New(14, 14)
		dc := draw.New(c)
		dc.FillPolygon(clr, []vg.Point{{X: 1, Y: 2}, {X: 13, Y: 2}, {X: 13, Y: 12}, {X: 1, Y: 12}})
		out[key] = mustSwatch(c)
	}
	box("band", colBand)
	for phase, clr := range phaseColours {
		box("phase-"+phase, clr)
	}
	box("phase-other", phaseColour(""))
	return out
})

func mustSwatch(c *vgsvg.Canvas) template.HTML {
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		panic(err)
	}
	s, err := inlineSVG(buf.String(), "swatch", "")
	if err != nil {
		panic(err)
	}
	return s
}

func swatch(key string) template.HTML { return swatches()[key] }
