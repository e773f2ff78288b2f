package ical

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// MaxCalendarSize is the largest iCalendar stream Parse reads, in bytes.
const MaxCalendarSize = 4 << 20

// maxDepth bounds the nesting of components Parse accepts; real calendars
// nest three deep (VCALENDAR, VEVENT, VALARM).
const maxDepth = 8

// Parse reads the events of an iCalendar stream written by Write or by
// other calendar software, such as an import.
//
// It unfolds lines (CRLF or LF), unescapes text, and resolves TZID
// parameters with time.LoadLocation, falling back to the X-LIC-LOCATION
// of the matching VTIMEZONE and to the IANA name at the end of a
// Mozilla-style TZID ("/mozilla.org/20050126_1/Europe/Berlin"). Other
// VTIMEZONE content is ignored, so a TZID that is no IANA name (as Outlook
// writes) is an error. Floating times are read in the calendar's
// X-WR-TIMEZONE when it names a zone, and in UTC otherwise; a DATE value
// (VALUE=DATE, an all-day event) is midnight in that zone. DURATION stands
// in for a missing DTEND; with neither, End is zero. RRule holds the RRULE
// text as given: check it with ParseRule. Wall times that are ambiguous or
// do not exist are read as Occurrences reads them.
//
// Parse reads at most MaxCalendarSize bytes and returns an error for
// larger input, for lines that are not content lines, for unbalanced
// BEGIN and END, and for a VEVENT without DTSTART.
func Parse(r io.Reader) ([]Event, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxCalendarSize+1))
	if err != nil {
		return nil, fmt.Errorf("parse calendar: %w", err)
	}
	if len(data) > MaxCalendarSize {
		return nil, fmt.Errorf("parse calendar: larger than %d bytes", MaxCalendarSize)
	}
	var p parser
	if err := p.read(data); err != nil {
		return nil, fmt.Errorf("parse calendar: %w", err)
	}
	events := make([]Event, 0, len(p.events))
	for _, props := range p.events {
		e, err := p.event(props)
		if err != nil {
			return nil, fmt.Errorf("parse calendar: %w", err)
		}
		events = append(events, e)
	}
	return events, nil
}

// contentLine is one unfolded content line (RFC 5545 §3.1).
type contentLine struct {
	num    int               // the line number where it begins
	name   string            // upper case
	params map[string]string // upper-case names; values joined with ","
	value  string
}

// parser holds what Parse has read so far.
type parser struct {
	events    [][]contentLine   // the properties of each VEVENT
	tzAliases map[string]string // VTIMEZONE TZID → X-LIC-LOCATION
	floating  string            // X-WR-TIMEZONE
	locations map[string]*time.Location
}

// read splits data into content lines and collects the properties of
// each VEVENT, and what the calendar says about time zones.
func (p *parser) read(data []byte) error {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	var stack []string
	var tzid, tzLocation string
	seenCalendar := false
	for l, err := range contentLines(data) {
		if err != nil {
			return err
		}
		switch l.name {
		case "BEGIN":
			c := strings.ToUpper(l.value)
			if len(stack) == 0 && c != "VCALENDAR" {
				return fmt.Errorf("line %d: BEGIN:%s outside VCALENDAR", l.num, l.value)
			}
			if len(stack) == maxDepth {
				return fmt.Errorf("line %d: components nested more than %d deep", l.num, maxDepth)
			}
			stack = append(stack, c)
			seenCalendar = true
			switch {
			case c == "VEVENT" && len(stack) == 2:
				p.events = append(p.events, nil)
			case c == "VTIMEZONE":
				tzid, tzLocation = "", ""
			}
			continue
		case "END":
			c := strings.ToUpper(l.value)
			if len(stack) == 0 || stack[len(stack)-1] != c {
				return fmt.Errorf("line %d: END:%s does not close an open component", l.num, l.value)
			}
			stack = stack[:len(stack)-1]
			if c == "VTIMEZONE" && tzid != "" && tzLocation != "" {
				if p.tzAliases == nil {
					p.tzAliases = make(map[string]string)
				}
				p.tzAliases[tzid] = tzLocation
			}
			continue
		}
		if len(stack) == 0 {
			return fmt.Errorf("line %d: %s outside VCALENDAR", l.num, l.name)
		}
		switch path := strings.Join(stack, "/"); {
		case path == "VCALENDAR/VEVENT":
			p.events[len(p.events)-1] = append(p.events[len(p.events)-1], l)
		case path == "VCALENDAR" && l.name == "X-WR-TIMEZONE":
			p.floating = l.value
		case strings.HasSuffix(path, "VTIMEZONE") && l.name == "TZID":
			tzid = l.value
		case strings.HasSuffix(path, "VTIMEZONE") && l.name == "X-LIC-LOCATION":
			tzLocation = l.value
		}
	}
	if !seenCalendar {
		return errors.New("no VCALENDAR")
	}
	if len(stack) > 0 {
		return fmt.Errorf("BEGIN:%s is never closed", stack[len(stack)-1])
	}
	return nil
}

// contentLines yields the unfolded content lines of data, skipping blank
// ones. A line beginning with a space or tab continues the one before
// (RFC 5545 §3.1).
func contentLines(data []byte) func(yield func(contentLine, error) bool) {
	return func(yield func(contentLine, error) bool) {
		var cur strings.Builder
		start := 0
		flush := func() bool {
			if cur.Len() == 0 {
				return true
			}
			l, err := parseContentLine(cur.String())
			if err != nil {
				err = fmt.Errorf("line %d: %w", start, err)
			}
			l.num = start
			cur.Reset()
			return yield(l, err) && err == nil
		}
		for num := 1; len(data) > 0; num++ {
			raw, rest, _ := bytes.Cut(data, []byte("\n"))
			data = rest
			raw = bytes.TrimSuffix(raw, []byte("\r"))
			if len(raw) > 0 && (raw[0] == ' ' || raw[0] == '\t') && cur.Len() > 0 {
				cur.Write(raw[1:])
				continue
			}
			if !flush() {
				return
			}
			cur.Write(raw)
			start = num
		}
		flush()
	}
}

// parseContentLine splits one unfolded line into name, parameters and
// value (RFC 5545 §3.1, §3.2).
func parseContentLine(s string) (contentLine, error) {
	i := nameEnd(s)
	if i == 0 {
		return contentLine{}, errors.New("content line has no name")
	}
	l := contentLine{name: strings.ToUpper(s[:i])}
	for i < len(s) && s[i] == ';' {
		i++
		j := i + nameEnd(s[i:])
		if j == i || j == len(s) || s[j] != '=' {
			return contentLine{}, fmt.Errorf("%s: malformed parameter", l.name)
		}
		param := strings.ToUpper(s[i:j])
		i = j
		var values []string
		for {
			i++ // past '=' or ','
			if i < len(s) && s[i] == '"' {
				end := strings.IndexByte(s[i+1:], '"')
				if end < 0 {
					return contentLine{}, fmt.Errorf("%s: unterminated quoted parameter %s", l.name, param)
				}
				values = append(values, s[i+1:i+1+end])
				i += end + 2
			} else {
				end := strings.IndexAny(s[i:], ";:,")
				if end < 0 {
					return contentLine{}, fmt.Errorf("%s: parameter %s runs to the end of the line", l.name, param)
				}
				values = append(values, s[i:i+end])
				i += end
			}
			if i >= len(s) || s[i] != ',' {
				break
			}
		}
		if l.params == nil {
			l.params = make(map[string]string)
		}
		if _, ok := l.params[param]; !ok {
			l.params[param] = strings.Join(values, ",")
		}
	}
	if i >= len(s) || s[i] != ':' {
		return contentLine{}, fmt.Errorf("%s: no colon before the value", l.name)
	}
	l.value = s[i+1:]
	return l, nil
}

// nameEnd returns the length of the name (letters, digits and "-") at
// the start of s.
func nameEnd(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return i
		}
	}
	return len(s)
}

// event builds an Event from the properties of a VEVENT.
func (p *parser) event(props []contentLine) (Event, error) {
	var e Event
	var duration, dtstart *contentLine
	seen := make(map[string]bool)
	for i := range props {
		l := &props[i]
		if seen[l.name] {
			// A property given twice: the first one wins.
			continue
		}
		seen[l.name] = true
		var err error
		switch l.name {
		case "UID":
			e.UID = text(l.value)
		case "SUMMARY":
			e.Summary = text(l.value)
		case "DESCRIPTION":
			e.Description = text(l.value)
		case "LOCATION":
			e.Location = text(l.value)
		case "URL":
			e.URL = strings.ToValidUTF8(l.value, "\uFFFD")
		case "RRULE":
			e.RRule = strings.ToValidUTF8(l.value, "\uFFFD")
		case "STATUS":
			switch s := strings.ToUpper(l.value); s {
			case "CONFIRMED", "TENTATIVE", "CANCELLED":
				e.Status = s
			}
		case "SEQUENCE":
			e.Sequence, err = strconv.Atoi(l.value)
			if err != nil || e.Sequence < 0 {
				err = fmt.Errorf("SEQUENCE %q is not a whole number", l.value)
			}
		case "DTSTART":
			dtstart = l
			e.Start, e.TimeZone, err = p.dateTime(l)
		case "DTEND":
			e.End, _, err = p.dateTime(l)
		case "DURATION":
			duration = l
		case "CREATED":
			e.Created, _, err = p.dateTime(l)
		case "LAST-MODIFIED":
			e.Modified, _, err = p.dateTime(l)
		}
		if err != nil {
			return Event{}, fmt.Errorf("line %d: %s: %w", l.num, l.name, err)
		}
	}
	if dtstart == nil {
		return Event{}, fmt.Errorf("event %q has no DTSTART", e.UID)
	}
	if duration != nil && e.End.IsZero() {
		days, d, err := parseDuration(duration.value)
		if err != nil {
			return Event{}, fmt.Errorf("line %d: DURATION: %w", duration.num, err)
		}
		// RFC 5545 §3.3.6: days and weeks are nominal, so they keep the
		// wall clock across a daylight-saving change.
		e.End = e.Start.AddDate(0, 0, days).Add(d)
	}
	return e, nil
}

// text decodes a TEXT value.
func text(s string) string {
	return strings.ToValidUTF8(unescapeText(s), "\uFFFD")
}

// unescapeText undoes the escapes of RFC 5545 §3.3.11. A backslash before
// any other character is dropped, as some producers escape ":" too.
func unescapeText(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		if s[i] == 'n' || s[i] == 'N' {
			b.WriteByte('\n')
		} else {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// dateTime reads a DATE or DATE-TIME property and returns it with the name of
// its zone ("" for UTC).
func (p *parser) dateTime(l *contentLine) (time.Time, string, error) {
	loc, name := time.UTC, ""
	if tzid := l.params["TZID"]; tzid != "" {
		var err error
		if loc, name, err = p.location(tzid); err != nil {
			return time.Time{}, "", err
		}
	} else if p.floating != "" {
		if fl, fname, err := p.location(p.floating); err == nil {
			loc, name = fl, fname
		}
	}
	v := l.value
	switch {
	case strings.EqualFold(l.params["VALUE"], "DATE") || len(v) == len(dateFormat):
		d, err := time.Parse(dateFormat, v)
		if err != nil {
			return time.Time{}, "", fmt.Errorf("%q is not a date (YYYYMMDD)", v)
		}
		return localTime(d, loc), name, nil
	case strings.HasSuffix(v, "Z"):
		t, err := time.Parse(utcFormat, v)
		if err != nil {
			return time.Time{}, "", fmt.Errorf("%q is not a UTC date-time (YYYYMMDDTHHMMSSZ)", v)
		}
		return t, "", nil
	default:
		t, err := time.Parse(localFormat, v)
		if err != nil {
			return time.Time{}, "", fmt.Errorf("%q is not a date-time (YYYYMMDDTHHMMSS)", v)
		}
		return localTime(t, loc), name, nil
	}
}

// location resolves a TZID to a time zone and its IANA name. Results,
// failures included, are remembered for the rest of the stream.
func (p *parser) location(tzid string) (*time.Location, string, error) {
	loc, ok := p.locations[tzid]
	if !ok {
		loc = resolveTZID(tzid, p.tzAliases[tzid])
		if p.locations == nil {
			p.locations = make(map[string]*time.Location)
		}
		p.locations[tzid] = loc
	}
	if loc == nil {
		return nil, "", fmt.Errorf("unknown time zone %q", tzid)
	}
	return loc, loc.String(), nil
}

// resolveTZID loads the zone a TZID names: the IANA name its VTIMEZONE
// gives as X-LIC-LOCATION (alias), the TZID itself, or the IANA name at
// the end of a Mozilla-style TZID ("/mozilla.org/20050126_1/Europe/Berlin";
// IANA names have at most three parts). It returns nil when none loads.
func resolveTZID(tzid, alias string) *time.Location {
	candidates := []string{alias, tzid}
	parts := strings.Split(tzid, "/")
	for n := 2; n <= 3 && n < len(parts); n++ {
		candidates = append(candidates, strings.Join(parts[len(parts)-n:], "/"))
	}
	for _, name := range candidates {
		if name == "" || name == "Local" {
			continue
		}
		if loc, err := time.LoadLocation(name); err == nil {
			return loc
		}
	}
	return nil
}

// maxDurationPart bounds each number in a DURATION so sums cannot overflow.
const maxDurationPart = 1_000_000

// parseDuration reads a DURATION value (RFC 5545 §3.3.6) as nominal days
// and an exact remainder.
func parseDuration(s string) (days int, d time.Duration, err error) {
	bad := fmt.Errorf("%q is not a duration", s)
	sign := 1
	switch {
	case strings.HasPrefix(s, "-"):
		sign, s = -1, s[1:]
	case strings.HasPrefix(s, "+"):
		s = s[1:]
	}
	s, ok := strings.CutPrefix(s, "P")
	if !ok || s == "" {
		return 0, 0, bad
	}
	inTime := false
	for s != "" {
		if s[0] == 'T' {
			if inTime || len(s) == 1 {
				return 0, 0, bad
			}
			inTime, s = true, s[1:]
			continue
		}
		i := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
		}
		if i == 0 || i == len(s) {
			return 0, 0, bad
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil || n > maxDurationPart {
			return 0, 0, bad
		}
		switch unit := s[i]; {
		case unit == 'W' && !inTime:
			days += 7 * n
		case unit == 'D' && !inTime:
			days += n
		case unit == 'H' && inTime:
			d += time.Duration(n) * time.Hour
		case unit == 'M' && inTime:
			d += time.Duration(n) * time.Minute
		case unit == 'S' && inTime:
			d += time.Duration(n) * time.Second
		default:
			return 0, 0, bad
		}
		s = s[i+1:]
	}
	return sign * days, time.Duration(sign) * d, nil
}
