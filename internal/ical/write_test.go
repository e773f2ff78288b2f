package ical

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var update = flag.Bool("update", false, "rewrite testdata/calendar.golden.ics")

// stamp is the DTSTAMP of the calendars the tests write.
var stamp = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// sampleEvents returns three meetings: one recurring in Berlin, one with a
// long description that needs escaping and folding, and one cancelled in
// New York.
func sampleEvents(t testing.TB) []Event {
	t.Helper()
	berlin := mustLoad(t, "Europe/Berlin")
	newYork := mustLoad(t, "America/New_York")
	return []Event{
		{
			UID:         "https://coppice.example/c/gardeners/meetings/1",
			Summary:     "Weekly gardeners' call",
			Description: "Bring one question.",
			URL:         "https://coppice.example/c/gardeners/meetings/1",
			Location:    "https://meet.example/gardeners",
			Start:       time.Date(2026, 3, 17, 19, 0, 0, 0, berlin),
			End:         time.Date(2026, 3, 17, 20, 0, 0, 0, berlin),
			TimeZone:    "Europe/Berlin",
			RRule:       "FREQ=WEEKLY;BYDAY=TU",
			Status:      "CONFIRMED",
			Created:     time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC),
			Modified:    time.Date(2026, 2, 3, 11, 30, 0, 0, time.UTC),
			Sequence:    2,
		},
		{
			UID:     "https://coppice.example/c/gardeners/meetings/2",
			Summary: "Seed swap; compost, and more 🌱",
			Description: "Agenda:\n1. Seeds, bulbs; cuttings\n2. Compost \\ mulch — " +
				strings.Repeat("ünïcödé 🌻 text, ", 8) + "\nSee you there!",
			Location: "Gemeinschaftsgarten, Hauptstraße 5; Hinterhof",
			Start:    time.Date(2026, 4, 25, 14, 0, 0, 0, berlin),
			End:      time.Date(2026, 4, 25, 17, 0, 0, 0, berlin),
			TimeZone: "Europe/Berlin",
			Status:   "TENTATIVE",
			Created:  time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC),
			Modified: time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC),
		},
		{
			UID:      "https://coppice.example/c/gardeners/meetings/3",
			Summary:  "Cancelled: winter planning",
			Start:    time.Date(2026, 11, 3, 18, 0, 0, 0, newYork),
			End:      time.Date(2026, 11, 3, 19, 0, 0, 0, newYork),
			TimeZone: "America/New_York",
			Status:   "CANCELLED",
			Sequence: 1,
			Created:  time.Date(2026, 2, 11, 9, 0, 0, 0, time.UTC),
			Modified: time.Date(2026, 2, 12, 9, 0, 0, 0, time.UTC),
		},
		{
			UID:      "https://coppice.example/c/gardeners/meetings/4",
			Summary:  "Monthly review",
			Start:    time.Date(2026, 5, 29, 16, 0, 0, 0, time.UTC),
			End:      time.Date(2026, 5, 29, 17, 0, 0, 0, time.UTC),
			RRule:    "FREQ=MONTHLY;COUNT=6;BYDAY=-1FR",
			Status:   "CONFIRMED",
			Created:  time.Date(2026, 2, 12, 9, 0, 0, 0, time.UTC),
			Modified: time.Date(2026, 2, 12, 9, 0, 0, 0, time.UTC),
		},
	}
}

// write returns the calendar Write writes for events.
func write(t testing.TB, events []Event) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, "Gardeners", stamp, events); err != nil {
		t.Fatalf("Write: %v", err)
	}
	return b.Bytes()
}

// checkEvents reports how got differs from want, field by field, with
// times compared as instants.
func checkEvents(t *testing.T, got, want []Event) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d events, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		strs := []struct{ field, got, want string }{
			{"UID", g.UID, w.UID},
			{"Summary", g.Summary, w.Summary},
			{"Description", g.Description, w.Description},
			{"URL", g.URL, w.URL},
			{"Location", g.Location, w.Location},
			{"TimeZone", g.TimeZone, w.TimeZone},
			{"RRule", g.RRule, w.RRule},
			{"Status", g.Status, w.Status},
		}
		for _, f := range strs {
			if f.got != f.want {
				t.Errorf("event %d %s = %q, want %q", i, f.field, f.got, f.want)
			}
		}
		times := []struct {
			field     string
			got, want time.Time
		}{
			{"Start", g.Start, w.Start},
			{"End", g.End, w.End},
			{"Created", g.Created, w.Created},
			{"Modified", g.Modified, w.Modified},
		}
		for _, f := range times {
			if !f.got.Equal(f.want) {
				t.Errorf("event %d %s = %s, want %s", i, f.field, f.got, f.want)
			}
		}
		if g.Sequence != w.Sequence {
			t.Errorf("event %d Sequence = %d, want %d", i, g.Sequence, w.Sequence)
		}
	}
}

func TestWriteParseRoundTrip(t *testing.T) {
	events := sampleEvents(t)
	out := write(t, events)

	if bytes.Contains(bytes.ReplaceAll(out, []byte("\r\n"), nil), []byte("\n")) ||
		bytes.Contains(bytes.ReplaceAll(out, []byte("\r\n"), nil), []byte("\r")) {
		t.Errorf("output has a line end other than CRLF")
	}
	if !bytes.HasSuffix(out, []byte("END:VCALENDAR\r\n")) {
		t.Errorf("output does not end with END:VCALENDAR and CRLF")
	}
	lines := strings.Split(strings.TrimSuffix(string(out), "\r\n"), "\r\n")
	folded := 0
	for i, l := range lines {
		if len(l) > maxLineOctets {
			t.Errorf("line %d is %d octets, want at most %d: %q", i+1, len(l), maxLineOctets, l)
		}
		if !utf8.ValidString(l) {
			t.Errorf("line %d splits a UTF-8 sequence: %q", i+1, l)
		}
		if strings.HasPrefix(l, " ") {
			folded++
		}
	}
	if folded == 0 {
		t.Errorf("no line was folded; the long description should be")
	}
	for _, want := range []string{
		"BEGIN:VTIMEZONE\r\nTZID:Europe/Berlin\r\n",
		"BEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n",
		"DTSTART;TZID=Europe/Berlin:20260317T190000\r\n",
		"DTSTART:20260529T160000Z\r\n",
		"SUMMARY:Seed swap\\; compost\\, and more 🌱\r\n",
		"STATUS:CANCELLED\r\n",
		"X-WR-CALNAME:Gardeners\r\n",
		"PRODID:-//Coppice//Coppice//EN\r\n",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("output lacks %q", want)
		}
	}
	if n := bytes.Count(out, []byte("BEGIN:VTIMEZONE")); n != 2 {
		t.Errorf("output has %d VTIMEZONEs, want 2 (Berlin and New York)", n)
	}

	got, err := Parse(bytes.NewReader(out))
	if err != nil {
		t.Fatalf("Parse(Write(events)): %v", err)
	}
	checkEvents(t, got, events)
}

func TestWriteGolden(t *testing.T) {
	got := write(t, sampleEvents(t))
	path := filepath.Join("testdata", "calendar.golden.ics")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create it): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("calendar differs from %s (go test ./internal/ical -update rewrites it):\n%s", path, got)
	}
}

func TestWriteFoldsWithoutSplittingUTF8(t *testing.T) {
	for n := range 8 {
		// Shift a run of four-octet emoji across the folding points.
		summary := strings.Repeat("x", n) + strings.Repeat("🌱", 60)
		out := write(t, []Event{{UID: "u", Summary: summary, Start: stamp}})
		for i, l := range strings.Split(string(out), "\r\n") {
			if len(l) > maxLineOctets || !utf8.ValidString(l) {
				t.Errorf("prefix %d: line %d is %d octets or not valid UTF-8: %q", n, i+1, len(l), l)
			}
		}
		got, err := Parse(bytes.NewReader(out))
		if err != nil {
			t.Fatalf("prefix %d: Parse: %v", n, err)
		}
		if got[0].Summary != summary {
			t.Errorf("prefix %d: Summary = %q, want %q", n, got[0].Summary, summary)
		}
	}
}

func TestEscapeText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "plain text is unchanged", in: "Gardeners' call", want: "Gardeners' call"},
		{name: "special characters are escaped", in: `a\b;c,d`, want: `a\\b\;c\,d`},
		{name: "newlines of every kind become \\n", in: "a\nb\r\nc\rd", want: `a\nb\nc\nd`},
		{name: "control characters are dropped but tab is kept", in: "a\x00b\x1bc\td\x7f", want: "abc\td"},
		{name: "invalid UTF-8 is replaced", in: "a\xffb", want: "a\uFFFDb"},
		{name: "colon is not escaped", in: "at 19:00", want: "at 19:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := escapeText(tt.in); got != tt.want {
				t.Errorf("escapeText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestWriteRejects(t *testing.T) {
	start := time.Date(2026, 3, 17, 18, 0, 0, 0, time.UTC)
	tests := []struct {
		name  string
		event Event
	}{
		{name: "no UID", event: Event{Start: start}},
		{name: "no start", event: Event{UID: "u"}},
		{name: "end before start", event: Event{UID: "u", Start: start, End: start.Add(-time.Hour)}},
		{name: "unknown time zone", event: Event{UID: "u", Start: start, TimeZone: "Mars/Olympus_Mons"}},
		{name: "the server's local zone", event: Event{UID: "u", Start: start, TimeZone: "Local"}},
		{name: "unsupported rule", event: Event{UID: "u", Start: start, RRule: "FREQ=MONTHLY;BYSETPOS=1"}},
		{name: "unknown status", event: Event{UID: "u", Start: start, Status: "MAYBE"}},
		{name: "negative sequence", event: Event{UID: "u", Start: start, Sequence: -1}},
		{name: "a time before year 2", event: Event{UID: "u", Start: time.Date(1, 6, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "a time after year 9998", event: Event{UID: "u", Start: start, End: time.Date(9999, 6, 1, 0, 0, 0, 0, time.UTC)}},
		{name: "URL with a line break", event: Event{UID: "u", Start: start, URL: "https://a.example/\r\nX-EVIL:1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			err := Write(&b, "c", stamp, []Event{tt.event})
			if err == nil {
				t.Fatalf("Write(%+v) succeeded, want an error", tt.event)
			}
			if b.Len() != 0 {
				t.Errorf("Write(%+v) wrote %d bytes before failing, want 0", tt.event, b.Len())
			}
		})
	}
}
