package ical

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one meeting in a calendar.
type Event struct {
	UID         string // stable, such as the meeting's IRI
	Summary     string
	Description string // plain text
	URL         string
	Location    string // place text or online link
	// Start and End are the meeting's first start and end; End is zero
	// when the meeting gives no end.
	Start, End time.Time
	// TimeZone is an IANA name such as "Europe/Berlin"; "" means UTC.
	TimeZone string
	// RRule is the RRULE value, without the "RRULE:" prefix; "" when the
	// meeting does not recur.
	RRule string
	// Status is "CONFIRMED", "TENTATIVE", "CANCELLED" or "" (not given).
	Status            string
	Created, Modified time.Time
	Sequence          int
}

// ProdID is the PRODID of every calendar Write writes.
const ProdID = "-//Coppice//Coppice//EN"

// The formats of RFC 5545 §3.3.4 and §3.3.5.
const (
	dateFormat  = "20060102"
	localFormat = "20060102T150405"
	utcFormat   = "20060102T150405Z"
)

// maxLineOctets is the longest content line RFC 5545 §3.1 allows, without
// the line break.
const maxLineOctets = 75

// Write writes the calendar name holding events as an iCalendar stream
// (RFC 5545) for publishing, with now as every event's DTSTAMP.
//
// A meeting with a TimeZone has its DTSTART and DTEND written as local
// times with a TZID parameter, and the calendar holds a VTIMEZONE for each
// zone used, generated from Go's zone data; a meeting without one has them
// in UTC. Text is escaped (§3.3.11), stripped of control characters other
// than tab and newline, and made valid UTF-8; lines are folded at 75
// octets without splitting a UTF-8 sequence and end in CRLF. Times are
// written to the second.
//
// Write checks every event first and writes nothing when one is invalid:
// a missing UID or Start, an End before Start, a time outside the years 2
// to 9998, an unknown TimeZone, an RRule ParseRule rejects, an unknown
// Status, a negative Sequence or a URL holding control characters.
func Write(w io.Writer, name string, now time.Time, events []Event) error {
	zones, checked, err := check(events)
	if err != nil {
		return fmt.Errorf("write calendar: %w", err)
	}
	var c contentWriter
	c.line("BEGIN:VCALENDAR")
	c.prop("PRODID", ProdID)
	c.prop("VERSION", "2.0")
	c.prop("CALSCALE", "GREGORIAN")
	c.prop("METHOD", "PUBLISH")
	c.prop("X-WR-CALNAME", escapeText(name))
	for _, z := range zones {
		writeTimeZone(&c, z.name, z.loc, z.first, z.lastYear)
	}
	for _, e := range checked {
		c.event(e, now)
	}
	c.line("END:VCALENDAR")
	if _, err := w.Write(c.buf.Bytes()); err != nil {
		return fmt.Errorf("write calendar: %w", err)
	}
	return nil
}

// zone is a time zone the events of a calendar use, with the span of
// years its VTIMEZONE must cover.
type zone struct {
	name     string
	loc      *time.Location
	first    time.Time // the earliest event start
	lastYear int       // the latest year an event starts, ends or recurs until
}

// checkedEvent is an event Write has checked, with what it derived.
type checkedEvent struct {
	Event
	rrule string         // the canonical RRULE, or ""
	loc   *time.Location // the event's zone, UTC when TimeZone is ""
}

// check checks events and returns the zones they use, in order of first
// use, and the events ready to write.
func check(events []Event) ([]zone, []checkedEvent, error) {
	var zones []zone
	checked := make([]checkedEvent, 0, len(events))
	for _, e := range events {
		rule, err := checkEvent(e)
		if err != nil {
			return nil, nil, fmt.Errorf("event %q: %w", e.UID, err)
		}
		ce := checkedEvent{Event: e, loc: time.UTC}
		if e.RRule != "" {
			ce.rrule = rule.String()
		}
		if e.TimeZone == "" {
			checked = append(checked, ce)
			continue
		}
		loc, err := loadLocation(e.TimeZone)
		if err != nil {
			return nil, nil, fmt.Errorf("event %q: %w", e.UID, err)
		}
		ce.loc = loc
		checked = append(checked, ce)
		last := e.Start.In(loc).Year()
		if !e.End.IsZero() {
			last = max(last, e.End.In(loc).Year())
		}
		if !rule.Until.IsZero() {
			last = max(last, rule.Until.In(loc).Year())
		}
		i := zoneIndex(zones, e.TimeZone)
		if i < 0 {
			zones = append(zones, zone{name: e.TimeZone, loc: loc, first: e.Start, lastYear: last})
			continue
		}
		if e.Start.Before(zones[i].first) {
			zones[i].first = e.Start
		}
		zones[i].lastYear = max(zones[i].lastYear, last)
	}
	return zones, checked, nil
}

func zoneIndex(zones []zone, name string) int {
	for i, z := range zones {
		if z.name == name {
			return i
		}
	}
	return -1
}

// checkEvent reports what makes e unwritable, and returns its parsed rule.
// Check reports why Write would refuse an event (a time outside the years
// it can write, an unknown zone, a bad rule, …), or nil. Feeds drop such an
// event rather than fail as a whole.
func Check(e Event) error {
	if _, err := checkEvent(e); err != nil {
		return err
	}
	if e.TimeZone != "" {
		if _, err := loadLocation(e.TimeZone); err != nil {
			return err
		}
	}
	return nil
}

func checkEvent(e Event) (Rule, error) {
	var rule Rule
	switch {
	case e.UID == "":
		return rule, errors.New("no UID")
	case e.Start.IsZero():
		return rule, errors.New("no start")
	case !e.End.IsZero() && e.End.Before(e.Start):
		return rule, errors.New("end before start")
	case e.Sequence < 0:
		return rule, fmt.Errorf("negative sequence %d", e.Sequence)
	case strings.ContainsFunc(e.URL, isControl):
		return rule, errors.New("URL holds control characters")
	}
	for _, t := range []time.Time{e.Start, e.End, e.Created, e.Modified} {
		// RFC 5545 §3.3.4 years have four digits, and a local time can be
		// most of a day from UTC: a year's margin keeps every form we
		// write between 0001 and 9999.
		if !t.IsZero() && (t.UTC().Year() < 2 || t.UTC().Year() > 9998) {
			return rule, fmt.Errorf("time %s outside the years 2 to 9998", t)
		}
	}
	switch e.Status {
	case "", "CONFIRMED", "TENTATIVE", "CANCELLED":
	default:
		return rule, fmt.Errorf("unknown status %q", e.Status)
	}
	if e.RRule != "" {
		var err error
		if rule, err = ParseRule(e.RRule); err != nil {
			return rule, err
		}
	}
	return rule, nil
}

// loadLocation loads an IANA time zone. It refuses "Local", which names
// whatever zone the server runs in.
func loadLocation(name string) (*time.Location, error) {
	if name == "Local" {
		return nil, errors.New(`time zone "Local" is not an IANA name`)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	return loc, nil
}

// contentWriter collects content lines, folded and ended with CRLF.
type contentWriter struct {
	buf bytes.Buffer
}

// event writes e as a VEVENT.
func (c *contentWriter) event(e checkedEvent, now time.Time) {
	c.line("BEGIN:VEVENT")
	c.prop("UID", escapeText(e.UID))
	c.prop("DTSTAMP", now.UTC().Format(utcFormat))
	c.dateTime("DTSTART", e.Start, e.TimeZone, e.loc)
	if !e.End.IsZero() {
		c.dateTime("DTEND", e.End, e.TimeZone, e.loc)
	}
	if e.rrule != "" {
		c.prop("RRULE", e.rrule)
	}
	c.prop("SUMMARY", escapeText(e.Summary))
	if e.Description != "" {
		c.prop("DESCRIPTION", escapeText(e.Description))
	}
	if e.URL != "" {
		c.prop("URL", e.URL)
	}
	if e.Location != "" {
		c.prop("LOCATION", escapeText(e.Location))
	}
	if e.Status != "" {
		c.prop("STATUS", e.Status)
	}
	c.prop("SEQUENCE", strconv.Itoa(e.Sequence))
	if !e.Created.IsZero() {
		c.prop("CREATED", e.Created.UTC().Format(utcFormat))
	}
	if !e.Modified.IsZero() {
		c.prop("LAST-MODIFIED", e.Modified.UTC().Format(utcFormat))
	}
	c.line("END:VEVENT")
}

// dateTime writes a DTSTART or DTEND: local time with a TZID parameter, or
// UTC when tzid is "".
func (c *contentWriter) dateTime(name string, t time.Time, tzid string, loc *time.Location) {
	if tzid == "" {
		c.prop(name, t.UTC().Format(utcFormat))
		return
	}
	c.line(name + ";TZID=" + paramValue(tzid) + ":" + t.In(loc).Format(localFormat))
}

// prop writes the property name with an already encoded value.
func (c *contentWriter) prop(name, value string) {
	c.line(name + ":" + value)
}

// line writes one content line, folded per RFC 5545 §3.1: no line is
// longer than 75 octets, a continuation begins with a space, and a
// multi-octet UTF-8 sequence is never split.
func (c *contentWriter) line(s string) {
	limit := maxLineOctets
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		c.buf.WriteString(s[:cut])
		c.buf.WriteString("\r\n ")
		s = s[cut:]
		limit = maxLineOctets - 1 // the leading space counts
	}
	c.buf.WriteString(s)
	c.buf.WriteString("\r\n")
}

// paramValue quotes a parameter value when it holds a character that
// would end it (RFC 5545 §3.2); double quotes cannot be written at all
// and are dropped.
func paramValue(v string) string {
	v = strings.ReplaceAll(v, `"`, "")
	if strings.ContainsAny(v, ";:,") {
		return `"` + v + `"`
	}
	return v
}

// escapeText encodes a TEXT value (RFC 5545 §3.3.11): it escapes
// backslash, semicolon, comma and newline, turns CRLF and CR into newline,
// drops other control characters and replaces invalid UTF-8.
func escapeText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\\' || r == ';' || r == ',':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r != '\t' && isControl(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isControl reports whether r is a CONTROL character of RFC 5545 §3.1:
// U+0000 to U+001F or U+007F.
func isControl(r rune) bool {
	return r < 0x20 || r == 0x7f
}
