package ical

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// parseFile parses a calendar from testdata.
func parseFile(t *testing.T, name string) []Event {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	events, err := Parse(f)
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	return events
}

func TestParseGoogleStyleExport(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	want := []Event{
		{
			UID:         "0a1b2c3d4e5f6g7h8i9j0k1l2m@google.com",
			Summary:     "Weekly gardeners' call",
			Description: "Bring one question, or two.\nJoin: https://meet.example/gardeners",
			Start:       time.Date(2026, 3, 17, 19, 0, 0, 0, berlin),
			End:         time.Date(2026, 3, 17, 20, 0, 0, 0, berlin),
			TimeZone:    "Europe/Berlin",
			RRule:       "FREQ=WEEKLY;BYDAY=TU",
			Status:      "CONFIRMED",
			Created:     time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC),
			Modified:    time.Date(2026, 2, 3, 11, 30, 0, 0, time.UTC),
		},
		{
			// An all-day event: midnight in the calendar's X-WR-TIMEZONE.
			UID:      "3n4o5p6q7r8s9t0u1v2w3x4y5z@google.com",
			Summary:  "Garden open day",
			Location: "Gemeinschaftsgarten, Hauptstraße 5",
			Start:    time.Date(2026, 5, 1, 0, 0, 0, 0, berlin),
			End:      time.Date(2026, 5, 2, 0, 0, 0, 0, berlin),
			TimeZone: "Europe/Berlin",
			Status:   "TENTATIVE",
			Created:  time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC),
			Modified: time.Date(2026, 2, 10, 9, 0, 0, 0, time.UTC),
			Sequence: 1,
		},
		{
			UID:      "6a7b8c9d0e1f2g3h4i5j6k7l8m@google.com",
			Summary:  "Cancelled: tool repair",
			Start:    time.Date(2026, 6, 10, 16, 0, 0, 0, time.UTC),
			End:      time.Date(2026, 6, 10, 17, 30, 0, 0, time.UTC),
			Status:   "CANCELLED",
			Created:  time.Date(2026, 2, 11, 9, 0, 0, 0, time.UTC),
			Modified: time.Date(2026, 2, 12, 9, 0, 0, 0, time.UTC),
			Sequence: 2,
		},
	}
	checkEvents(t, parseFile(t, "google-style.ics"), want)
}

func TestParseThunderbirdStyleExport(t *testing.T) {
	berlin := mustLoad(t, "Europe/Berlin")
	want := []Event{
		{
			UID:         "5f4e3d2c-1b0a-4f9e-8d7c-6b5a4f3e2d1c",
			Summary:     "Seed swap",
			Description: "Line one\nLine two; with a semicolon, and a comma",
			Location:    "Hauptstraße 5, Hinterhof",
			Start:       time.Date(2026, 1, 13, 18, 30, 0, 0, berlin),
			End:         time.Date(2026, 1, 13, 20, 0, 0, 0, berlin),
			TimeZone:    "Europe/Berlin",
			RRule:       "FREQ=MONTHLY;BYDAY=2TU",
			Status:      "CONFIRMED",
			Created:     time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC),
			Modified:    time.Date(2026, 2, 3, 11, 30, 0, 0, time.UTC),
			Sequence:    3,
		},
		{
			// Floating, and the calendar names no zone: read as UTC.
			UID:     "b1c2d3e4-floating",
			Summary: "Floating breakfast",
			Start:   time.Date(2026, 3, 20, 9, 0, 0, 0, time.UTC),
			End:     time.Date(2026, 3, 20, 10, 0, 0, 0, time.UTC),
		},
		{
			// 02:30 does not exist on 29 March 2026 in Berlin: 03:30 CEST.
			// P1D is a nominal day, so the end keeps the wall clock.
			UID:      "c2d3e4f5-custom-zone",
			Summary:  "Night walk",
			Start:    time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC),
			End:      time.Date(2026, 3, 30, 1, 30, 0, 0, time.UTC),
			TimeZone: "Europe/Berlin",
		},
	}
	checkEvents(t, parseFile(t, "thunderbird-style.ics"), want)
}

func TestParseRejects(t *testing.T) {
	const event = "BEGIN:VEVENT\r\nUID:u\r\nDTSTART:20260101T000000Z\r\nEND:VEVENT\r\n"
	calendar := func(body string) string {
		return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n" + body + "END:VCALENDAR\r\n"
	}
	tests := []struct {
		name string
		in   string
	}{
		{name: "empty input", in: ""},
		{name: "not a calendar", in: "<html><body>hello</body></html>"},
		{name: "property outside VCALENDAR", in: "SUMMARY:x\r\n" + calendar(event)},
		{name: "component outside VCALENDAR", in: event},
		{name: "unclosed VCALENDAR", in: "BEGIN:VCALENDAR\r\n" + event},
		{name: "END that closes nothing open", in: calendar(event + "END:VEVENT\r\n")},
		{name: "mismatched END", in: calendar("BEGIN:VEVENT\r\nEND:VTODO\r\n")},
		{name: "line without a colon", in: calendar("BEGIN:VEVENT\r\nSUMMARY\r\nEND:VEVENT\r\n")},
		{name: "line without a name", in: calendar(":value\r\n")},
		{name: "unterminated quoted parameter", in: calendar(`X-A;CN="open:x` + "\r\n")},
		{name: "event without DTSTART", in: calendar("BEGIN:VEVENT\r\nUID:u\r\nEND:VEVENT\r\n")},
		{name: "unknown TZID", in: calendar("BEGIN:VEVENT\r\nUID:u\r\nDTSTART;TZID=W. Europe Standard Time:20260101T100000\r\nEND:VEVENT\r\n")},
		{name: "TZID naming the server's local zone", in: calendar("BEGIN:VEVENT\r\nUID:u\r\nDTSTART;TZID=Local:20260101T100000\r\nEND:VEVENT\r\n")},
		{name: "malformed date-time", in: calendar("BEGIN:VEVENT\r\nUID:u\r\nDTSTART:2026-01-01T10:00:00Z\r\nEND:VEVENT\r\n")},
		{name: "malformed duration", in: calendar("BEGIN:VEVENT\r\nUID:u\r\nDTSTART:20260101T100000Z\r\nDURATION:1 hour\r\nEND:VEVENT\r\n")},
		{name: "negative sequence", in: calendar("BEGIN:VEVENT\r\nUID:u\r\nDTSTART:20260101T100000Z\r\nSEQUENCE:-1\r\nEND:VEVENT\r\n")},
		{name: "components nested too deep", in: calendar(strings.Repeat("BEGIN:X\r\n", 20) + strings.Repeat("END:X\r\n", 20))},
		{name: "larger than MaxCalendarSize", in: calendar(strings.Repeat("X-PAD:"+strings.Repeat("a", 1000)+"\r\n", MaxCalendarSize/1000))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			events, err := Parse(strings.NewReader(tt.in))
			if err == nil {
				t.Errorf("Parse(%.60q) = %d events, want an error", tt.in, len(events))
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Event
	}{
		{
			name: "LF line ends and a tab-folded line",
			in:   "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:u\nDTSTART:20260101T100000Z\nSUMMARY:Hello\n\t world\nEND:VEVENT\nEND:VCALENDAR\n",
			want: Event{UID: "u", Summary: "Hello world", Start: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)},
		},
		{
			name: "byte order mark, lower-case names and blank lines",
			in:   "\uFEFFbegin:vcalendar\r\n\r\nbegin:vevent\r\nuid:u\r\ndtstart:20260101T100000Z\r\nstatus:cancelled\r\nend:vevent\r\nend:vcalendar\r\n",
			want: Event{UID: "u", Status: "CANCELLED", Start: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)},
		},
		{
			name: "escapes including an escaped colon and capital N",
			in:   "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTART:20260101T100000Z\r\nDESCRIPTION:a\\,b\\;c\\\\d\\Ne\\:f\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
			want: Event{UID: "u", Description: "a,b;c\\d\ne:f", Start: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)},
		},
		{
			name: "the first of a repeated property wins",
			in:   "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTART:20260101T100000Z\r\nSUMMARY:first\r\nSUMMARY:second\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
			want: Event{UID: "u", Summary: "first", Start: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)},
		},
		{
			name: "DURATION in weeks",
			in:   "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTART:20260101T100000Z\r\nDURATION:P2W\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
			want: Event{UID: "u", Start: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC), End: time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)},
		},
		{
			name: "unknown status is left out",
			in:   "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nUID:u\r\nDTSTART:20260101T100000Z\r\nSTATUS:NEEDS-ACTION\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
			want: Event{UID: "u", Start: time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.in))
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			checkEvents(t, got, []Event{tt.want})
		})
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in       string
		wantDays int
		want     time.Duration
	}{
		{in: "PT1H30M", want: 90 * time.Minute},
		{in: "P1D", wantDays: 1},
		{in: "P1DT2H", wantDays: 1, want: 2 * time.Hour},
		{in: "P2W", wantDays: 14},
		{in: "-PT15M", want: -15 * time.Minute},
		{in: "+PT10S", want: 10 * time.Second},
		{in: "P0DT0H10M0S", want: 10 * time.Minute},
	}
	for _, tt := range tests {
		days, d, err := parseDuration(tt.in)
		if err != nil || days != tt.wantDays || d != tt.want {
			t.Errorf("parseDuration(%q) = %d days, %v, %v; want %d days, %v", tt.in, days, d, err, tt.wantDays, tt.want)
		}
	}
	for _, in := range []string{"", "P", "PT", "1H", "PT1D", "P1H", "PXD", "P1", "P99999999999D"} {
		if _, _, err := parseDuration(in); err == nil {
			t.Errorf("parseDuration(%q) succeeded, want an error", in)
		}
	}
}
