package ical

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.ics"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=\"a:b\";VALUE=DATE:20260101\nDURATION:-P1W\nEND:VEVENT\nEND:VCALENDAR\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		events, err := Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		// What Parse accepts, Write must either write or refuse cleanly.
		var b bytes.Buffer
		if err := Write(&b, "fuzz", stamp, events); err != nil {
			return
		}
		if _, err := Parse(&b); err != nil {
			t.Errorf("Parse(Write(Parse(%q))): %v", data, err)
		}
	})
}

func FuzzParseRule(f *testing.F) {
	for _, s := range []string{
		"FREQ=WEEKLY;BYDAY=TU",
		"RRULE:FREQ=MONTHLY;BYDAY=-1FR;COUNT=5",
		"FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU",
		"FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU",
		"FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=23,24,25,26,27,28,29;BYDAY=FR",
		"FREQ=DAILY;UNTIL=20261231T230000Z;WKST=SU",
		"FREQ=DAILY;UNTIL=20260501",
		"FREQ=MONTHLY;BYMONTHDAY=-1,15",
		"FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRule(s)
		if err != nil {
			return
		}
		again, err := ParseRule(r.String())
		if err != nil {
			t.Fatalf("ParseRule(%q).String() = %q, which does not parse: %v", s, r.String(), err)
		}
		if !reflect.DeepEqual(again, r) {
			t.Errorf("ParseRule(%q) = %+v, but ParseRule(%q) = %+v", s, r, r.String(), again)
		}
	})
}
