package ical

import (
	"bytes"
	"slices"
	"strconv"
	"testing"
	"time"
)

// onset is one change a VTIMEZONE describes: from at on, the offset is to.
type onset struct {
	at time.Time
	to int
}

// parseOffset reads a TZOFFSETFROM or TZOFFSETTO value.
func parseOffset(t *testing.T, v string) int {
	t.Helper()
	if len(v) != 5 && len(v) != 7 {
		t.Fatalf("offset %q is not ±HHMM or ±HHMMSS", v)
	}
	n := 0
	for i, unit := range []int{3600, 60, 1} {
		if 1+2*i >= len(v) {
			break
		}
		d, err := strconv.Atoi(v[1+2*i : 3+2*i])
		if err != nil {
			t.Fatalf("offset %q: %v", v, err)
		}
		n += d * unit
	}
	if v[0] == '-' {
		n = -n
	}
	return n
}

// zoneOnsets reads the VTIMEZONE for tzid out of a calendar and expands
// its sub-components, RRULEs included, into onsets before end.
func zoneOnsets(t *testing.T, ics []byte, tzid string, end time.Time) []onset {
	t.Helper()
	var onsets []onset
	var inZone bool
	var dtstart, rrule string
	var from, to int
	for l, err := range contentLines(ics) {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case l.name == "TZID":
			inZone = l.value == tzid
		case l.name == "END" && l.value == "VTIMEZONE":
			inZone = false
		case !inZone:
		case l.name == "BEGIN":
			dtstart, rrule = "", ""
		case l.name == "DTSTART":
			dtstart = l.value
		case l.name == "RRULE":
			rrule = l.value
		case l.name == "TZOFFSETFROM":
			from = parseOffset(t, l.value)
		case l.name == "TZOFFSETTO":
			to = parseOffset(t, l.value)
		case l.name == "END":
			fixed := time.FixedZone("", from)
			start, err := time.ParseInLocation(localFormat, dtstart, fixed)
			if err != nil {
				t.Fatalf("DTSTART %q: %v", dtstart, err)
			}
			ats := []time.Time{start}
			if rrule != "" {
				ats = mustRule(t, rrule).Occurrences(start, fixed, start, end, 0)
			}
			for _, at := range ats {
				onsets = append(onsets, onset{at, to})
			}
		}
	}
	slices.SortFunc(onsets, func(a, b onset) int { return a.at.Compare(b.at) })
	return onsets
}

func TestVTimezoneMatchesGo(t *testing.T) {
	tests := []struct {
		name  string
		zone  string
		start string // the first meeting, local time
		years int    // how long past the meeting the VTIMEZONE must stay right
	}{
		{name: "Berlin, last Sundays", zone: "Europe/Berlin", start: "2026-03-17 19:00", years: 25},
		{name: "Berlin, a winter meeting in a year Go's zone rule covers", zone: "Europe/Berlin", start: "2045-01-10 19:00", years: 10},
		{name: "New York, meeting after fall back", zone: "America/New_York", start: "2026-11-03 18:00", years: 25},
		{name: "Sydney, southern hemisphere", zone: "Australia/Sydney", start: "2026-06-01 09:00", years: 25},
		{name: "Lord Howe, half-hour daylight saving", zone: "Australia/Lord_Howe", start: "2026-03-17 19:00", years: 25},
		{name: "Jerusalem, Friday on or after the 23rd", zone: "Asia/Jerusalem", start: "2026-03-17 19:00", years: 25},
		{name: "Santiago, Sunday on or after the 2nd", zone: "America/Santiago", start: "2026-03-17 19:00", years: 25},
		{name: "Tokyo, no daylight saving", zone: "Asia/Tokyo", start: "2026-03-17 19:00", years: 25},
		{name: "Sao Paulo, daylight saving abolished", zone: "America/Sao_Paulo", start: "2026-03-17 19:00", years: 25},
		{name: "UTC", zone: "UTC", start: "2026-03-17 19:00", years: 25},
		{name: "Casablanca, changes without a rule, within the events' year", zone: "Africa/Casablanca", start: "2026-01-10 19:00", years: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoad(t, tt.zone)
			start, err := time.ParseInLocation("2006-01-02 15:04", tt.start, loc)
			if err != nil {
				t.Fatal(err)
			}
			out := write(t, []Event{{UID: "u", Start: start, TimeZone: tt.zone, RRule: "FREQ=WEEKLY"}})
			end := time.Date(start.Year()+1+tt.years, time.January, 1, 0, 0, 0, 0, loc)
			onsets := zoneOnsets(t, out, tt.zone, end)
			if len(onsets) == 0 {
				t.Fatalf("no VTIMEZONE for %s in\n%s", tt.zone, out)
			}
			for at := start; at.Before(end); at = at.Add(3 * time.Hour) {
				i := len(onsets) - 1
				for i >= 0 && onsets[i].at.After(at) {
					i--
				}
				if i < 0 {
					t.Fatalf("VTIMEZONE starts at %s, after the meeting at %s", onsets[0].at, at)
				}
				if _, want := at.In(loc).Zone(); onsets[i].to != want {
					t.Fatalf("at %s the VTIMEZONE gives offset %d, Go gives %d:\n%s", at.UTC(), onsets[i].to, want, out)
				}
			}
			if n := bytes.Count(out, []byte("BEGIN:STANDARD")) + bytes.Count(out, []byte("BEGIN:DAYLIGHT")); n > 4 && tt.years > 0 {
				t.Errorf("VTIMEZONE has %d sub-components, want at most 4 for a zone with a yearly rule", n)
			}
		})
	}
}

func TestTransitionsMatchScan(t *testing.T) {
	// The span crosses 2040 and 2044, leap years in which Go's ZoneBounds
	// ends the last period of the year a day early (see transitions).
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Africa/Casablanca", "Asia/Tokyo", "America/Sao_Paulo"} {
		t.Run(name, func(t *testing.T) {
			loc := mustLoad(t, name)
			from := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
			to := time.Date(2065, 1, 1, 0, 0, 0, 0, time.UTC)
			// Zones change at most a few times a year, never twice in six
			// hours, so a six-hour step finds every change.
			const step = 6 * time.Hour
			var want []time.Time
			for at := from; at.Before(to); at = at.Add(step) {
				if next := at.Add(step); zoneAt(next, loc) != zoneAt(at, loc) {
					want = append(want, changeBetween(at, next, loc))
				}
			}
			var got []time.Time
			for _, tr := range transitions(loc, from, to) {
				got = append(got, tr.at)
			}
			if !slices.EqualFunc(got, want, time.Time.Equal) {
				t.Errorf("transitions(%s) =\n%v\nwant (scan)\n%v", name, got, want)
			}
		})
	}
}
