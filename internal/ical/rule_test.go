package ical

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestParseRule(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Rule
	}{
		{
			name: "weekly on Tuesdays",
			in:   "FREQ=WEEKLY;BYDAY=TU",
			want: Rule{Freq: Weekly, Interval: 1, ByDay: []WeekdayNum{{Weekday: time.Tuesday}}, WeekStart: time.Monday},
		},
		{
			name: "RRULE prefix and lower case",
			in:   "rrule:freq=daily;count=5",
			want: Rule{Freq: Daily, Interval: 1, Count: 5, WeekStart: time.Monday},
		},
		{
			name: "last Friday of the month",
			in:   "FREQ=MONTHLY;BYDAY=-1FR",
			want: Rule{Freq: Monthly, Interval: 1, ByDay: []WeekdayNum{{Ordinal: -1, Weekday: time.Friday}}, WeekStart: time.Monday},
		},
		{
			name: "second Tuesday every other month with a trailing semicolon",
			in:   "FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU;",
			want: Rule{Freq: Monthly, Interval: 2, ByDay: []WeekdayNum{{Ordinal: 2, Weekday: time.Tuesday}}, WeekStart: time.Monday},
		},
		{
			name: "UTC UNTIL",
			in:   "FREQ=WEEKLY;UNTIL=20261231T230000Z;WKST=SU",
			want: Rule{Freq: Weekly, Interval: 1, Until: time.Date(2026, 12, 31, 23, 0, 0, 0, time.UTC), WeekStart: time.Sunday},
		},
		{
			name: "DATE UNTIL",
			in:   "FREQ=DAILY;UNTIL=20260501",
			want: Rule{Freq: Daily, Interval: 1, Until: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), UntilDate: true, WeekStart: time.Monday},
		},
		{
			name: "yearly by month and month day",
			in:   "FREQ=YEARLY;BYMONTH=3,9;BYMONTHDAY=1,-1",
			want: Rule{Freq: Yearly, Interval: 1, ByMonth: []time.Month{time.March, time.September}, ByMonthDay: []int{1, -1}, WeekStart: time.Monday},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRule(tt.in)
			if err != nil {
				t.Fatalf("ParseRule(%q) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseRule(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseRuleRejects(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		unsupported bool
	}{
		{name: "FREQ missing", in: "BYDAY=TU;COUNT=3"},
		{name: "BYSETPOS", in: "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", unsupported: true},
		{name: "BYHOUR", in: "FREQ=DAILY;BYHOUR=9", unsupported: true},
		{name: "hourly frequency", in: "FREQ=HOURLY", unsupported: true},
		{name: "secondly frequency", in: "FREQ=SECONDLY", unsupported: true},
		{name: "COUNT and UNTIL both", in: "FREQ=DAILY;COUNT=3;UNTIL=20260101T000000Z"},
		{name: "negative INTERVAL", in: "FREQ=DAILY;INTERVAL=-2"},
		{name: "zero INTERVAL", in: "FREQ=DAILY;INTERVAL=0"},
		{name: "zero COUNT", in: "FREQ=DAILY;COUNT=0"},
		{name: "garbage", in: "this is not a rule"},
		{name: "empty", in: ""},
		{name: "unknown frequency", in: "FREQ=FORTNIGHTLY"},
		{name: "unknown rule part", in: "FREQ=DAILY;FOO=1"},
		{name: "rule part twice", in: "FREQ=DAILY;FREQ=WEEKLY"},
		{name: "rule part without value", in: "FREQ=WEEKLY;BYDAY="},
		{name: "bad weekday", in: "FREQ=WEEKLY;BYDAY=XX"},
		{name: "ordinal with weekly", in: "FREQ=WEEKLY;BYDAY=2TU"},
		{name: "ordinal out of range", in: "FREQ=MONTHLY;BYDAY=54TU"},
		{name: "month day out of range", in: "FREQ=MONTHLY;BYMONTHDAY=32"},
		{name: "month day zero", in: "FREQ=MONTHLY;BYMONTHDAY=0"},
		{name: "month out of range", in: "FREQ=YEARLY;BYMONTH=13"},
		{name: "month day with weekly", in: "FREQ=WEEKLY;BYMONTHDAY=3"},
		{name: "floating UNTIL", in: "FREQ=DAILY;UNTIL=20260101T000000"},
		{name: "impossible UNTIL date", in: "FREQ=DAILY;UNTIL=20260230"},
		{name: "bad WKST", in: "FREQ=WEEKLY;WKST=XY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRule(tt.in)
			if err == nil {
				t.Fatalf("ParseRule(%q) = %v, want an error", tt.in, r)
			}
			if got := errors.Is(err, ErrUnsupported); got != tt.unsupported {
				t.Errorf("ParseRule(%q) error %q: errors.Is(ErrUnsupported) = %v, want %v", tt.in, err, got, tt.unsupported)
			}
		})
	}
}

func TestRuleString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{name: "defaults are left out", in: "RRULE:FREQ=WEEKLY;INTERVAL=1;WKST=MO;BYDAY=TU", want: "FREQ=WEEKLY;BYDAY=TU"},
		{name: "parts in canonical order", in: "BYDAY=-1FR;freq=monthly;COUNT=5;INTERVAL=2", want: "FREQ=MONTHLY;INTERVAL=2;COUNT=5;BYDAY=-1FR"},
		{name: "UTC UNTIL and week start", in: "FREQ=WEEKLY;WKST=SU;UNTIL=20261231T230000Z;BYDAY=MO,TH", want: "FREQ=WEEKLY;UNTIL=20261231T230000Z;BYDAY=MO,TH;WKST=SU"},
		{name: "DATE UNTIL", in: "FREQ=DAILY;UNTIL=20260501", want: "FREQ=DAILY;UNTIL=20260501"},
		{name: "yearly lists", in: "FREQ=YEARLY;BYDAY=SU;BYMONTHDAY=23,24,25;BYMONTH=3", want: "FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=23,24,25;BYDAY=SU"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := ParseRule(tt.in)
			if err != nil {
				t.Fatalf("ParseRule(%q) error: %v", tt.in, err)
			}
			if got := r.String(); got != tt.want {
				t.Errorf("ParseRule(%q).String() = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
