package ical

import (
	"fmt"
	"slices"
	"time"
)

// futureYears is how far past the events a yearly transition rule must
// keep matching Go's zone data before a VTIMEZONE states it as an RRULE.
const futureYears = 30

// maxTransitions bounds the scan of a zone; real zones change offset twice
// a year at most.
const maxTransitions = 10_000

// transition is one change of a zone's UTC offset, abbreviation or
// daylight-saving flag.
type transition struct {
	at      time.Time // the instant of the change
	fromOff int       // UTC offset before, in seconds east
	toOff   int       // UTC offset after
	name    string    // abbreviation after
	isDST   bool      // daylight saving after
}

// kind identifies the transitions one VTIMEZONE sub-component may describe
// together.
type kind struct {
	fromOff, toOff int
	name           string
	isDST          bool
}

func (t transition) kind() kind {
	return kind{t.fromOff, t.toOff, t.name, t.isDST}
}

// onset returns the wall time at which t happens, in the offset before it,
// which is how RFC 5545 §3.6.5 writes a sub-component's DTSTART.
func (t transition) onset() time.Time {
	return t.at.In(time.FixedZone("", t.fromOff))
}

// observance is one STANDARD or DAYLIGHT sub-component of a VTIMEZONE.
type observance struct {
	transition
	rule *Rule // the yearly rule repeating the transition, or nil
}

// transitions returns the changes of loc in (after, before), found with
// time.Time.ZoneBounds.
func transitions(loc *time.Location, after, before time.Time) []transition {
	var out []transition
	t := after
	for range maxTransitions {
		_, end := t.In(loc).ZoneBounds()
		if end.IsZero() {
			break
		}
		if !end.After(t) {
			// In the years a zone's POSIX TZ rule covers (after its last
			// listed transition), Go (1.26) reports a boundary at the turn
			// of each year, where nothing changes, and in a leap year ends
			// the year's last period a day early, so that ZoneBounds
			// returns an end that is not after t until the year is over.
			// Step through that day an hour at a time instead.
			next := t.Add(time.Hour)
			if zoneAt(next, loc) == zoneAt(t, loc) {
				t = next
				continue
			}
			end = changeBetween(t, next, loc)
		}
		if !end.Before(before) {
			break
		}
		prev, next := zoneAt(end.Add(-time.Nanosecond), loc), zoneAt(end, loc)
		if prev != next {
			out = append(out, transition{at: end, fromOff: prev.off, toOff: next.off, name: next.name, isDST: next.isDST})
		}
		t = end
	}
	return out
}

// zoneState is what a zone says about one instant.
type zoneState struct {
	name  string
	off   int
	isDST bool
}

// zoneAt returns loc's abbreviation, offset and daylight-saving flag at t.
func zoneAt(t time.Time, loc *time.Location) zoneState {
	lt := t.In(loc)
	name, off := lt.Zone()
	return zoneState{name, off, lt.IsDST()}
}

// changeBetween returns the first instant after a, and no later than b,
// at which loc's state differs from its state at a, found by bisection.
func changeBetween(a, b time.Time, loc *time.Location) time.Time {
	at := zoneAt(a, loc)
	for b.Sub(a) > time.Nanosecond {
		mid := a.Add(b.Sub(a) / 2)
		if zoneAt(mid, loc) == at {
			a = mid
		} else {
			b = mid
		}
	}
	return b
}

// observances returns the sub-components of a VTIMEZONE for loc that
// covers events from first to the end of lastYear, in order of onset. The
// first one is the change into the period that holds first. A sub-component
// whose change repeats every year by a rule that Go's zone data follows for
// futureYears past the events carries that rule as an RRULE, so recurring
// meetings stay correct past the last event; other changes are written
// one by one.
func observances(loc *time.Location, first time.Time, lastYear int) []observance {
	change := changeBefore(first, loc)
	if change.IsZero() {
		// The zone never changed before first (UTC, or a fixed offset):
		// one observance from long before it holds until the next change.
		name, off := first.In(loc).Zone()
		since := time.Date(min(1970, first.Year()), time.January, 1, 0, 0, 0, 0, time.FixedZone("", off))
		obs := []observance{{transition: transition{at: since, fromOff: off, toOff: off, name: name}}}
		return append(obs, compress(loc, first, lastYear)...)
	}
	return compress(loc, change.Add(-time.Nanosecond), lastYear)
}

// changeBefore returns the last change of loc at or before t, or the zero
// time when loc never changed before t. It passes over the boundaries
// ZoneBounds reports where nothing changes (see transitions).
func changeBefore(t time.Time, loc *time.Location) time.Time {
	for range maxTransitions {
		start, _ := t.In(loc).ZoneBounds()
		if start.IsZero() || zoneAt(start.Add(-time.Nanosecond), loc) != zoneAt(start, loc) {
			return start
		}
		t = start.Add(-time.Nanosecond)
	}
	return time.Time{}
}

// compress returns the observances for loc's changes after from up to the
// end of lastYear, replacing each kind's final run of changes with a yearly
// rule when one fits.
func compress(loc *time.Location, from time.Time, lastYear int) []observance {
	horizon := time.Date(lastYear+1, time.January, 1, 0, 0, 0, 0, loc)
	limit := horizon.AddDate(futureYears, 0, 0)
	span := transitions(loc, from, horizon)
	all := append(slices.Clone(span), transitions(loc, horizon.Add(-time.Nanosecond), limit)...)

	byKind := make(map[kind][]transition)
	var kinds []kind
	for _, t := range all {
		k := t.kind()
		if _, ok := byKind[k]; !ok {
			kinds = append(kinds, k)
		}
		byKind[k] = append(byKind[k], t)
	}

	var obs []observance
	for _, k := range kinds {
		list := byKind[k]
		inSpan := 0
		for inSpan < len(list) && list[inSpan].at.Before(horizon) {
			inSpan++
		}
		ruled := inSpan
		var rule *Rule
		if inSpan < len(list) {
			// The change goes on after the events: look for a yearly rule
			// that gives exactly the changes of this kind from the last
			// one among the events (or the next one, when there is none)
			// on, so that a recurring meeting stays right after them.
			anchor := max(inSpan-1, 0)
			for _, r := range yearlyRules(list[anchor].onset()) {
				if !fits(r, list[anchor:], limit) {
					continue
				}
				ruled = anchor
				for ruled > 0 && fits(r, list[ruled-1:], limit) {
					ruled--
				}
				rule = &r
				break
			}
		}
		for _, t := range list[:ruled] {
			obs = append(obs, observance{transition: t})
		}
		if rule != nil {
			obs = append(obs, observance{transition: list[ruled], rule: rule})
		}
	}
	slices.SortFunc(obs, func(a, b observance) int { return a.at.Compare(b.at) })
	return obs
}

// fits reports whether rule, started at the first of list, yields exactly
// the instants of list before limit.
func fits(r Rule, list []transition, limit time.Time) bool {
	start := list[0].onset()
	got := r.Occurrences(start, start.Location(), start, limit, len(list)+1)
	if len(got) != len(list) {
		return false
	}
	for i, t := range got {
		if !t.Equal(list[i].at) {
			return false
		}
	}
	return true
}

// yearlyRules returns the yearly rules, simplest first, that could describe
// a change happening at the wall time onset every year: the nth or last
// weekday of the month ("lastSun", "Sun>=8"), a weekday on or after a day
// of the month ("Fri>=23"), or a fixed date.
func yearlyRules(onset time.Time) []Rule {
	d, m, wd := onset.Day(), onset.Month(), onset.Weekday()
	base := Rule{Freq: Yearly, Interval: 1, WeekStart: time.Monday, ByMonth: []time.Month{m}}
	var rules []Rule
	if n := (d-1)/7 + 1; n <= 4 {
		r := base
		r.ByDay = []WeekdayNum{{Ordinal: n, Weekday: wd}}
		rules = append(rules, r)
	}
	if d+7 > daysIn(onset.Year(), m) {
		r := base
		r.ByDay = []WeekdayNum{{Ordinal: -1, Weekday: wd}}
		rules = append(rules, r)
	}
	shortest := daysIn(2001, m) // a month's length in a common year
	for lo := max(d-6, 1); lo <= d && lo+6 <= shortest; lo++ {
		r := base
		r.ByDay = []WeekdayNum{{Weekday: wd}}
		for md := lo; md <= lo+6; md++ {
			r.ByMonthDay = append(r.ByMonthDay, md)
		}
		rules = append(rules, r)
	}
	r := base
	r.ByMonthDay = []int{d}
	return append(rules, r)
}

// writeTimeZone writes the VTIMEZONE for the zone named tzid.
func writeTimeZone(c *contentWriter, tzid string, loc *time.Location, first time.Time, lastYear int) {
	c.line("BEGIN:VTIMEZONE")
	c.prop("TZID", escapeText(tzid))
	for _, o := range observances(loc, first, lastYear) {
		component := "STANDARD"
		if o.isDST {
			component = "DAYLIGHT"
		}
		c.line("BEGIN:" + component)
		c.prop("DTSTART", o.onset().Format(localFormat))
		c.prop("TZOFFSETFROM", formatOffset(o.fromOff))
		c.prop("TZOFFSETTO", formatOffset(o.toOff))
		if o.name != "" {
			c.prop("TZNAME", escapeText(o.name))
		}
		if o.rule != nil {
			c.prop("RRULE", o.rule.String())
		}
		c.line("END:" + component)
	}
	c.line("END:VTIMEZONE")
}

// formatOffset writes a UTC offset as RFC 5545 §3.3.14 does: ±HHMM, with
// seconds only when there are some (local mean time).
func formatOffset(off int) string {
	sign := '+'
	if off < 0 {
		sign, off = '-', -off
	}
	if off%60 != 0 {
		return fmt.Sprintf("%c%02d%02d%02d", sign, off/3600, off/60%60, off%60)
	}
	return fmt.Sprintf("%c%02d%02d", sign, off/3600, off/60%60)
}
