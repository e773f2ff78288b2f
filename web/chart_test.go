package web

import (
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
)

func TestNiceCeiling(t *testing.T) {
	for _, tt := range []struct{ n, want int }{{0, 4}, {1, 4}, {4, 4}, {5, 8}, {8, 8}, {9, 20}, {20, 20}, {21, 40}, {81, 200}, {1234, 2000}} {
		if got := niceCeiling(tt.n); got != tt.want {
			t.Errorf("niceCeiling(%d) = %d, want %d", tt.n, got, tt.want)
		}
	}
}

// TestChartIsReadableWithoutColour: the axes carry titles and values, every
// bar its value, the caption the total and the peak, and the table every
// non-zero value; the SVG is well-formed and has no script.
func TestChartIsReadableWithoutColour(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var pts []community.Count
	values := []int{0, 3, 0, 7, 1}
	for i, v := range values {
		pts = append(pts, community.Count{At: day.Add(time.Duration(i) * 24 * time.Hour), Value: v, Known: true})
	}
	c := chart{ID: "t", Title: "Posts per day", XLabel: "Day (UTC)", YLabel: "Posts", Unit: "posts", Points: pts, Label: dayLabel, TickEvery: 2}
	out := string(c.HTML())

	for _, want := range []string{
		`>Day (UTC)</text>`, `>Posts</text>`, // axis titles
		`>0</text>`, `>2</text>`, `>4</text>`, `>6</text>`, `>8</text>`, // y values: 7 rounds up to 8
		`>1 Mar</text>`, `>3 Mar</text>`, `>5 Mar</text>`, // every second day on the x axis
		`<title>4 Mar: 7 posts</title>`, `<title>2 Mar: 3 posts</title>`, `<title>1 Mar: 0 posts</title>`,
		`1 Mar to 5 Mar: 11 posts in all, most on 4 Mar (7).`,
		`<tr><td>4 Mar</td><td>7</td></tr>`, `<tr><td>5 Mar</td><td>1</td></tr>`,
		`role="img"`, `aria-labelledby="t-title t-desc"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("chart lacks %s", want)
		}
	}
	if strings.Contains(out, `<tr><td>1 Mar</td>`) {
		t.Error("the table lists a zero value")
	}
	if n := len(regexp.MustCompile(`<rect class="bar"`).FindAllString(out, -1)); n != len(values) {
		t.Errorf("%d bars, want %d", n, len(values))
	}
	if strings.Contains(strings.ToLower(out), "<script") || strings.Contains(out, "fill=\"#") {
		t.Error("chart has a script or a hard-coded colour")
	}
	svg := out[strings.Index(out, "<svg") : strings.Index(out, "</svg>")+len("</svg>")]
	dec := xml.NewDecoder(strings.NewReader(svg))
	for {
		if _, err := dec.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
	}
}

func TestChartEscapesAndMarksMissingSamples(t *testing.T) {
	h := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	pts := []community.Count{{At: h, Value: 5, Known: true}, {At: h.Add(time.Hour)}, {At: h.Add(2 * time.Hour), Value: 2, Known: true}}
	c := chart{ID: "q", Title: "Queue <depth>", XLabel: "Hour", YLabel: "Queued", Unit: "queued", Points: pts, Label: hourLabel, Peak: true}
	out := string(c.HTML())
	if strings.Contains(out, "<depth>") || !strings.Contains(out, "Queue &lt;depth&gt;") {
		t.Error("the title is not escaped")
	}
	if !strings.Contains(out, "at most 5 queued") || !strings.Contains(out, "1 of 3 without a sample") {
		t.Errorf("caption does not give the peak and the missing sample: %s", out[strings.Index(out, "<figcaption>"):])
	}
	if n := strings.Count(out, `<rect class="bar"`); n != 2 {
		t.Errorf("%d bars, want 2 (no bar for the hour without a sample)", n)
	}
}
