package ical

import (
	"slices"
	"testing"
	"time"
	_ "time/tzdata" // the tests must not depend on the machine's zone files
)

// mustLoad returns the named time zone.
func mustLoad(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("LoadLocation(%q): %v", name, err)
	}
	return loc
}

// mustRule parses an RRULE that the test knows is valid.
func mustRule(t testing.TB, s string) Rule {
	t.Helper()
	r, err := ParseRule(s)
	if err != nil {
		t.Fatalf("ParseRule(%q): %v", s, err)
	}
	return r
}

// formatAll writes times as RFC 3339, which shows both the wall clock and
// the UTC offset.
func formatAll(ts []time.Time) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Format(time.RFC3339)
	}
	return out
}

func TestOccurrences(t *testing.T) {
	far := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		rule     string
		zone     string
		dtstart  string // wall time in zone, "2006-01-02 15:04"
		from, to time.Time
		max      int
		want     []string
	}{
		{
			name:    "weekly Tuesday evening in Berlin across spring forward",
			rule:    "FREQ=WEEKLY;BYDAY=TU;COUNT=4",
			zone:    "Europe/Berlin",
			dtstart: "2026-03-17 19:00",
			to:      far,
			want:    []string{"2026-03-17T19:00:00+01:00", "2026-03-24T19:00:00+01:00", "2026-03-31T19:00:00+02:00", "2026-04-07T19:00:00+02:00"},
		},
		{
			name:    "weekly Tuesday evening in New York across fall back",
			rule:    "FREQ=WEEKLY;BYDAY=TU;COUNT=4",
			zone:    "America/New_York",
			dtstart: "2026-10-20 19:00",
			to:      far,
			want:    []string{"2026-10-20T19:00:00-04:00", "2026-10-27T19:00:00-04:00", "2026-11-03T19:00:00-05:00", "2026-11-10T19:00:00-05:00"},
		},
		{
			name:    "monthly on the last Friday",
			rule:    "FREQ=MONTHLY;BYDAY=-1FR;COUNT=4",
			zone:    "UTC",
			dtstart: "2026-01-30 18:00",
			to:      far,
			want:    []string{"2026-01-30T18:00:00Z", "2026-02-27T18:00:00Z", "2026-03-27T18:00:00Z", "2026-04-24T18:00:00Z"},
		},
		{
			name:    "monthly on the second Tuesday",
			rule:    "FREQ=MONTHLY;BYDAY=2TU;COUNT=4",
			zone:    "Europe/Berlin",
			dtstart: "2026-01-13 18:30",
			to:      far,
			want:    []string{"2026-01-13T18:30:00+01:00", "2026-02-10T18:30:00+01:00", "2026-03-10T18:30:00+01:00", "2026-04-14T18:30:00+02:00"},
		},
		{
			name:    "monthly on the 31st skips short months",
			rule:    "FREQ=MONTHLY;COUNT=4",
			zone:    "UTC",
			dtstart: "2026-01-31 12:00",
			to:      far,
			want:    []string{"2026-01-31T12:00:00Z", "2026-03-31T12:00:00Z", "2026-05-31T12:00:00Z", "2026-07-31T12:00:00Z"},
		},
		{
			name:    "monthly on the last day by BYMONTHDAY=-1",
			rule:    "FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3",
			zone:    "UTC",
			dtstart: "2026-01-31 12:00",
			to:      far,
			want:    []string{"2026-01-31T12:00:00Z", "2026-02-28T12:00:00Z", "2026-03-31T12:00:00Z"},
		},
		{
			name:    "COUNT=5 stops after five",
			rule:    "FREQ=DAILY;COUNT=5",
			zone:    "UTC",
			dtstart: "2026-05-01 09:00",
			to:      far,
			want:    []string{"2026-05-01T09:00:00Z", "2026-05-02T09:00:00Z", "2026-05-03T09:00:00Z", "2026-05-04T09:00:00Z", "2026-05-05T09:00:00Z"},
		},
		{
			name:    "COUNT counts from dtstart when from is later",
			rule:    "FREQ=DAILY;COUNT=5",
			zone:    "UTC",
			dtstart: "2026-05-01 09:00",
			from:    time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC),
			to:      far,
			want:    []string{"2026-05-04T09:00:00Z", "2026-05-05T09:00:00Z"},
		},
		{
			name:    "UNTIL is inclusive",
			rule:    "FREQ=WEEKLY;UNTIL=20260414T170000Z",
			zone:    "Europe/Berlin",
			dtstart: "2026-03-17 19:00",
			to:      far,
			want:    []string{"2026-03-17T19:00:00+01:00", "2026-03-24T19:00:00+01:00", "2026-03-31T19:00:00+02:00", "2026-04-07T19:00:00+02:00", "2026-04-14T19:00:00+02:00"},
		},
		{
			name:    "UNTIL as a date includes that whole day",
			rule:    "FREQ=DAILY;UNTIL=20260503",
			zone:    "America/New_York",
			dtstart: "2026-05-01 21:00",
			to:      far,
			want:    []string{"2026-05-01T21:00:00-04:00", "2026-05-02T21:00:00-04:00", "2026-05-03T21:00:00-04:00"},
		},
		{
			name:    "INTERVAL=2 on two weekdays",
			rule:    "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=6",
			zone:    "UTC",
			dtstart: "2026-03-02 10:00",
			to:      far,
			want:    []string{"2026-03-02T10:00:00Z", "2026-03-05T10:00:00Z", "2026-03-16T10:00:00Z", "2026-03-19T10:00:00Z", "2026-03-30T10:00:00Z", "2026-04-02T10:00:00Z"},
		},
		{
			name:    "nonexistent spring-forward time moves forward by the gap in Berlin",
			rule:    "FREQ=DAILY;COUNT=4",
			zone:    "Europe/Berlin",
			dtstart: "2026-03-27 02:30",
			to:      far,
			want:    []string{"2026-03-27T02:30:00+01:00", "2026-03-28T02:30:00+01:00", "2026-03-29T03:30:00+02:00", "2026-03-30T02:30:00+02:00"},
		},
		{
			name:    "nonexistent spring-forward time moves forward by the gap in New York",
			rule:    "FREQ=DAILY;COUNT=3",
			zone:    "America/New_York",
			dtstart: "2026-03-07 02:30",
			to:      far,
			want:    []string{"2026-03-07T02:30:00-05:00", "2026-03-08T03:30:00-04:00", "2026-03-09T02:30:00-04:00"},
		},
		{
			name:    "ambiguous fall-back time takes the first",
			rule:    "FREQ=DAILY;COUNT=3",
			zone:    "Europe/Berlin",
			dtstart: "2026-10-24 02:30",
			to:      far,
			want:    []string{"2026-10-24T02:30:00+02:00", "2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"},
		},
		{
			name:    "window far after dtstart without COUNT",
			rule:    "FREQ=WEEKLY",
			zone:    "UTC",
			dtstart: "2020-01-07 10:00",
			from:    time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
			to:      time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC),
			want:    []string{"2026-03-03T10:00:00Z", "2026-03-10T10:00:00Z"},
		},
		{
			name:    "to is exclusive",
			rule:    "FREQ=DAILY",
			zone:    "UTC",
			dtstart: "2026-05-01 09:00",
			to:      time.Date(2026, 5, 3, 9, 0, 0, 0, time.UTC),
			want:    []string{"2026-05-01T09:00:00Z", "2026-05-02T09:00:00Z"},
		},
		{
			name:    "max limits the result",
			rule:    "FREQ=DAILY",
			zone:    "UTC",
			dtstart: "2026-05-01 09:00",
			to:      far,
			max:     2,
			want:    []string{"2026-05-01T09:00:00Z", "2026-05-02T09:00:00Z"},
		},
		{
			name:    "dtstart counts even when the rule would not produce it",
			rule:    "FREQ=WEEKLY;BYDAY=TU;COUNT=2",
			zone:    "UTC",
			dtstart: "2026-03-16 10:00",
			to:      far,
			want:    []string{"2026-03-16T10:00:00Z", "2026-03-17T10:00:00Z"},
		},
		{
			name:    "yearly on the last Sunday of March",
			rule:    "FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU;COUNT=3",
			zone:    "Europe/Berlin",
			dtstart: "2026-03-29 11:00",
			to:      far,
			want:    []string{"2026-03-29T11:00:00+02:00", "2027-03-28T11:00:00+02:00", "2028-03-26T11:00:00+02:00"},
		},
		{
			name:    "yearly on 29 February only in leap years",
			rule:    "FREQ=YEARLY;COUNT=3",
			zone:    "UTC",
			dtstart: "2024-02-29 08:00",
			to:      far,
			want:    []string{"2024-02-29T08:00:00Z", "2028-02-29T08:00:00Z", "2032-02-29T08:00:00Z"},
		},
		{
			name:    "daily limited to weekdays",
			rule:    "FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=4",
			zone:    "UTC",
			dtstart: "2026-03-05 08:00",
			to:      far,
			want:    []string{"2026-03-05T08:00:00Z", "2026-03-06T08:00:00Z", "2026-03-09T08:00:00Z", "2026-03-10T08:00:00Z"},
		},
		{
			name:    "a rule that never matches ends",
			rule:    "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=30",
			zone:    "UTC",
			dtstart: "2026-01-30 08:00",
			to:      time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC),
			want:    []string{"2026-01-30T08:00:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoad(t, tt.zone)
			dtstart, err := time.ParseInLocation("2006-01-02 15:04", tt.dtstart, loc)
			if err != nil {
				t.Fatal(err)
			}
			r := mustRule(t, tt.rule)
			got := formatAll(r.Occurrences(dtstart, loc, tt.from, tt.to, tt.max))
			if !slices.Equal(got, tt.want) {
				t.Errorf("ParseRule(%q).Occurrences(%s in %s) =\n%q\nwant\n%q", tt.rule, tt.dtstart, tt.zone, got, tt.want)
			}
		})
	}
}

func TestOccurrencesKeepLocalTimeAcrossDST(t *testing.T) {
	tests := []struct {
		name    string
		zone    string
		start   string
		wantUTC []string
	}{
		{
			name:    "Berlin spring forward",
			zone:    "Europe/Berlin",
			start:   "2026-03-17 19:00",
			wantUTC: []string{"2026-03-17T18:00:00Z", "2026-03-24T18:00:00Z", "2026-03-31T17:00:00Z", "2026-04-07T17:00:00Z"},
		},
		{
			name:    "New York fall back",
			zone:    "America/New_York",
			start:   "2026-10-20 19:00",
			wantUTC: []string{"2026-10-20T23:00:00Z", "2026-10-27T23:00:00Z", "2026-11-04T00:00:00Z", "2026-11-11T00:00:00Z"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			loc := mustLoad(t, tt.zone)
			dtstart, err := time.ParseInLocation("2006-01-02 15:04", tt.start, loc)
			if err != nil {
				t.Fatal(err)
			}
			got := mustRule(t, "FREQ=WEEKLY;BYDAY=TU").Occurrences(dtstart, loc, dtstart, dtstart.AddDate(0, 0, 28), 0)
			var gotUTC []string
			for _, o := range got {
				if local := o.In(loc); local.Hour() != 19 || local.Minute() != 0 {
					t.Errorf("occurrence %s is at %s local time, want 19:00", o, local.Format("15:04"))
				}
				gotUTC = append(gotUTC, o.UTC().Format(time.RFC3339))
			}
			if !slices.Equal(gotUTC, tt.wantUTC) {
				t.Errorf("occurrences in UTC = %q, want %q", gotUTC, tt.wantUTC)
			}
		})
	}
}

func TestOccurrencesDefaultCap(t *testing.T) {
	dtstart := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	got := mustRule(t, "FREQ=DAILY").Occurrences(dtstart, time.UTC, dtstart, dtstart.AddDate(100, 0, 0), 0)
	if len(got) != 1000 {
		t.Errorf("daily for 100 years with max 0 gave %d occurrences, want 1000", len(got))
	}
}
