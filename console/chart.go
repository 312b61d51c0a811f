package console

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
	"time"
)

// A chart is drawn on the server as inline SVG: no script, nothing for the
// Content-Security-Policy to allow (docs/console.md says why).

// series is one line of a chart.
type series struct {
	Name  string
	Class string // CSS class: its colour
	Y     []float64
}

// chart is a line chart over time.
type chart struct {
	Title  string
	Unit   string // "req/min", "ms", "%"
	X      []time.Time
	Series []series
	// Alert, when positive, draws Meta's alert threshold as a dashed line.
	Alert      float64
	AlertLabel string
}

const (
	chartW, chartH       = 600, 180
	padL, padR, padT, pB = 56, 12, 14, 26
)

// svg renders c; the result is safe HTML (every text is escaped).
func (c chart) svg() template.HTML {
	var b strings.Builder
	maxY := c.Alert * 1.15
	for _, s := range c.Series {
		for _, y := range s.Y {
			maxY = math.Max(maxY, y)
		}
	}
	if maxY <= 0 {
		maxY = 1
	}
	maxY = niceCeil(maxY)
	plotW, plotH := float64(chartW-padL-padR), float64(chartH-padT-pB)
	xAt := func(i int) float64 {
		if len(c.X) <= 1 {
			return padL
		}
		return padL + plotW*float64(i)/float64(len(c.X)-1)
	}
	yAt := func(v float64) float64 { return padT + plotH*(1-v/maxY) }
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-label="%s">`, chartW, chartH,
		html.EscapeString(c.Title+" ("+c.Unit+")"))
	// grid and y labels: 5 steps when the top is 5 × 10^k (1, 2, 3, 4, 5),
	// 4 otherwise (0.5, 1, 1.5, 2 or 2.5, 5, 7.5, 10)
	ticks := 4
	if m := maxY / math.Pow(10, math.Floor(math.Log10(maxY))); math.Abs(m-5) < 1e-9 {
		ticks = 5
	}
	for i := 0; i <= ticks; i++ {
		v := maxY * float64(i) / float64(ticks)
		y := yAt(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, y, y)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, padL-6, y+4, html.EscapeString(short(v)))
	}
	// x labels: first, middle, last
	if n := len(c.X); n > 0 {
		for _, i := range []int{0, n / 2, n - 1} {
			anchor := "middle"
			if i == 0 {
				anchor = "start"
			} else if i == n-1 {
				anchor = "end"
			}
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`, xAt(i), chartH-8, anchor,
				html.EscapeString(c.X[i].Format("Jan 2 15:04")))
		}
	}
	if c.Alert > 0 {
		y := yAt(c.Alert)
		fmt.Fprintf(&b, `<line class="alert" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, padL, chartW-padR, y, y)
		fmt.Fprintf(&b, `<text class="alert-label" x="%d" y="%.1f" text-anchor="end">%s</text>`, chartW-padR-2, y-4, html.EscapeString(c.AlertLabel))
	}
	if len(c.Series) > 1 { // a legend, top left
		x := float64(padL + 8)
		for _, s := range c.Series {
			fmt.Fprintf(&b, `<line class="line %s" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>`, html.EscapeString(s.Class), x, x+14, padT+6, padT+6)
			fmt.Fprintf(&b, `<text class="axis" x="%.1f" y="%d">%s</text>`, x+18, padT+10, html.EscapeString(s.Name))
			x += 26 + 7*float64(len(s.Name))
		}
	}
	for _, s := range c.Series {
		var pts []string
		for i, y := range s.Y {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xAt(i), yAt(y)))
		}
		if len(pts) == 1 {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", xAt(0)+2, yAt(s.Y[0])))
		}
		fmt.Fprintf(&b, `<polyline class="line %s" points="%s"/>`, html.EscapeString(s.Class), strings.Join(pts, " "))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// short formats an axis value.
func short(v float64) string {
	switch {
	case v >= 1000:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", v/1000), ".0") + "k"
	case v == math.Trunc(v):
		return fmt.Sprintf("%.0f", v)
	default:
		return fmt.Sprintf("%.1f", v)
	}
}
