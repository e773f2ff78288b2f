package web

import (
	"fmt"
	"html"
	"html/template"
	"strings"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
)

// chart is a bar chart drawn on the server as SVG: no JavaScript, and
// readable without colour — the axes are labelled, the y axis has its
// values, every bar has its value as a tooltip, the caption gives the
// total and the peak, and a table under it lists every non-zero value.
type chart struct {
	ID     string // unique on the page
	Title  string // "Posts per day"
	XLabel string // "Day (UTC)"
	YLabel string // "Posts"
	Unit   string // "posts", for the tooltips
	Points []community.Count
	// Label formats a point's time on the axis and in the table.
	Label func(time.Time) string
	// TickEvery is how many bars apart the x axis labels are.
	TickEvery int
	// Peak: the caption names the largest value instead of the total (for
	// the queue depth, where a sum means nothing).
	Peak bool
}

// Geometry of every chart, in SVG user units.
const (
	chartWidth  = 720
	chartHeight = 240
	padLeft     = 56
	padRight    = 12
	padTop      = 12
	padBottom   = 52
)

// niceCeiling returns the top of the y axis for a largest value n: four
// gridlines a step apart, the step 1, 2 or 5 × 10^k, at least n in all.
func niceCeiling(n int) int {
	for scale := 1; ; scale *= 10 {
		for _, m := range []int{1, 2, 5} {
			if step := m * scale; 4*step >= n {
				return 4 * step
			}
		}
	}
}

// HTML renders the chart as a figure: the SVG, a caption and the table.
func (c chart) HTML() template.HTML {
	esc := html.EscapeString
	var b strings.Builder
	total, peak, peakAt, known := 0, 0, -1, 0
	for i, p := range c.Points {
		if !p.Known {
			continue
		}
		known++
		total += p.Value
		if p.Value > peak || peakAt < 0 {
			peak, peakAt = p.Value, i
		}
	}
	top := niceCeiling(peak)
	plotW := float64(chartWidth - padLeft - padRight)
	plotH := float64(chartHeight - padTop - padBottom)
	n := max(len(c.Points), 1)
	slot := plotW / float64(n)
	barW := max(slot*0.8, 1)

	fmt.Fprintf(&b, `<figure class="chart" id="%s">`, esc(c.ID))
	fmt.Fprintf(&b, `<svg viewBox="0 0 %d %d" width="100%%" role="img" aria-labelledby="%s-title %s-desc" xmlns="http://www.w3.org/2000/svg">`,
		chartWidth, chartHeight, esc(c.ID), esc(c.ID))
	fmt.Fprintf(&b, `<title id="%s-title">%s</title>`, esc(c.ID), esc(c.Title))
	fmt.Fprintf(&b, `<desc id="%s-desc">%s</desc>`, esc(c.ID), esc(c.summary(total, peak, peakAt, known)))
	// Gridlines and y axis values.
	for i := 0; i <= 4; i++ {
		v := top * i / 4
		y := float64(padTop) + plotH - plotH*float64(i)/4
		fmt.Fprintf(&b, `<line class="grid" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, padLeft, y, chartWidth-padRight, y)
		fmt.Fprintf(&b, `<text class="tick" x="%d" y="%.1f" text-anchor="end" dominant-baseline="middle">%d</text>`, padLeft-6, y, v)
	}
	// Bars, each with its value as a tooltip.
	for i, p := range c.Points {
		x := float64(padLeft) + slot*float64(i) + (slot-barW)/2
		if !p.Known {
			fmt.Fprintf(&b, `<text class="gap" x="%.1f" y="%.1f" text-anchor="middle">·</text>`, x+barW/2, float64(padTop)+plotH-2)
			continue
		}
		h := plotH * float64(p.Value) / float64(top)
		fmt.Fprintf(&b, `<rect class="bar" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d %s</title></rect>`,
			x, float64(padTop)+plotH-h, barW, h, esc(c.Label(p.At)), p.Value, esc(c.Unit))
		if p.Value > 0 && i == peakAt {
			fmt.Fprintf(&b, `<text class="value" x="%.1f" y="%.1f" text-anchor="middle">%d</text>`, x+barW/2, float64(padTop)+plotH-h-3, p.Value)
		}
	}
	// Axes, x labels and axis titles.
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%d" x2="%d" y2="%.1f"/>`, padLeft, padTop, padLeft, float64(padTop)+plotH)
	fmt.Fprintf(&b, `<line class="axis" x1="%d" y1="%.1f" x2="%d" y2="%.1f"/>`, padLeft, float64(padTop)+plotH, chartWidth-padRight, float64(padTop)+plotH)
	every := max(c.TickEvery, 1)
	for i := 0; i < len(c.Points); i += every {
		x := float64(padLeft) + slot*float64(i) + slot/2
		fmt.Fprintf(&b, `<line class="axis" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>`, x, float64(padTop)+plotH, x, float64(padTop)+plotH+4)
		fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, x, float64(padTop)+plotH+16, esc(c.Label(c.Points[i].At)))
	}
	fmt.Fprintf(&b, `<text class="axis-title" x="%.1f" y="%d" text-anchor="middle">%s</text>`, float64(padLeft)+plotW/2, chartHeight-8, esc(c.XLabel))
	fmt.Fprintf(&b, `<text class="axis-title" x="14" y="%.1f" text-anchor="middle" transform="rotate(-90 14 %.1f)">%s</text>`,
		float64(padTop)+plotH/2, float64(padTop)+plotH/2, esc(c.YLabel))
	b.WriteString(`</svg>`)
	fmt.Fprintf(&b, `<figcaption><strong>%s</strong>. %s</figcaption>`, esc(c.Title), esc(c.summary(total, peak, peakAt, known)))
	// The numbers, for screen readers and for reading without the bars.
	fmt.Fprintf(&b, `<details><summary>%s: the numbers</summary><table><thead><tr><th scope="col">%s</th><th scope="col">%s</th></tr></thead><tbody>`,
		esc(c.Title), esc(c.XLabel), esc(c.YLabel))
	rows := 0
	for _, p := range c.Points {
		if p.Known && p.Value > 0 {
			fmt.Fprintf(&b, `<tr><td>%s</td><td>%d</td></tr>`, esc(c.Label(p.At)), p.Value)
			rows++
		}
	}
	if rows == 0 {
		b.WriteString(`<tr><td colspan="2">None in this period.</td></tr>`)
	}
	b.WriteString(`</tbody></table></details></figure>`)
	return template.HTML(b.String()) // every value above is escaped
}

// summary says in words what the chart shows.
func (c chart) summary(total, peak, peakAt, known int) string {
	if len(c.Points) == 0 {
		return "No data."
	}
	span := c.Label(c.Points[0].At) + " to " + c.Label(c.Points[len(c.Points)-1].At)
	if known == 0 {
		return span + ": nothing recorded."
	}
	var s string
	if c.Peak {
		s = fmt.Sprintf("%s: at most %d %s", span, peak, c.Unit)
	} else {
		s = fmt.Sprintf("%s: %d %s in all", span, total, c.Unit)
	}
	if peak > 0 {
		s += fmt.Sprintf(", most on %s (%d)", c.Label(c.Points[peakAt].At), peak)
	}
	if known < len(c.Points) {
		s += fmt.Sprintf("; %d of %d without a sample (·)", len(c.Points)-known, len(c.Points))
	}
	return s + "."
}

func dayLabel(t time.Time) string  { return t.UTC().Format("2 Jan") }
func hourLabel(t time.Time) string { return t.UTC().Format("2 Jan 15:00") }

// communityCharts are the two charts of a community's activity.
func communityCharts(prefix string, a community.CommunityActivity) []chart {
	return []chart{
		{ID: prefix + "-posts", Title: fmt.Sprintf("Posts per day, last %d days", community.ActivityDays), XLabel: "Day (UTC)", YLabel: "Posts",
			Unit: "posts", Points: a.Posts, Label: dayLabel, TickEvery: 15},
		{ID: prefix + "-members", Title: fmt.Sprintf("New members per day, last %d days", community.ActivityDays), XLabel: "Day (UTC)", YLabel: "New members",
			Unit: "new members", Points: a.NewMembers, Label: dayLabel, TickEvery: 15},
	}
}

// deliveryCharts are the instance's delivery charts: one per outcome, so
// that no colour is needed to tell them apart, and the queue depth.
func deliveryCharts(d community.DeliveryActivity) []chart {
	per := func(id, title, unit string, pts []community.Count) chart {
		return chart{ID: id, Title: fmt.Sprintf("%s per hour, last %d hours", title, community.DeliveryHours), XLabel: "Hour (UTC)",
			YLabel: "Deliveries", Unit: unit, Points: pts, Label: hourLabel, TickEvery: 12}
	}
	return []chart{
		per("deliveries-delivered", "Deliveries delivered", "delivered", d.Delivered),
		per("deliveries-retried", "Deliveries to retry", "to retry", d.Retried),
		per("deliveries-failed", "Deliveries given up or refused", "given up or refused", d.Failed),
		per("deliveries-dropped", "Deliveries dropped (inbox gone)", "dropped", d.Dropped),
		{ID: "queue-depth", Title: fmt.Sprintf("Delivery queue depth, largest per hour, last %d hours", community.DeliveryHours), XLabel: "Hour (UTC)",
			YLabel: "Deliveries queued", Unit: "queued", Points: d.QueueDepth, Label: hourLabel, TickEvery: 12, Peak: true},
	}
}
