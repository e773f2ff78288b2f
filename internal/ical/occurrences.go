package ical

import (
	"slices"
	"time"
)

// defaultMaxOccurrences is the number of occurrences Occurrences returns at
// most when its caller gives no limit.
const defaultMaxOccurrences = 1000

// maxEmptyPeriods is how many periods in a row may yield no candidate day
// before Occurrences gives up. It exceeds a century of days, so rare but
// real dates (29 February on a Monday) are still found, while a rule that
// can never match (BYMONTH=2;BYMONTHDAY=30) ends without reaching to.
const maxEmptyPeriods = 40_000

// Occurrences expands the rule from the first occurrence dtstart and returns,
// in loc, the start of every occurrence with start in [from, to), at most
// max of them (1000 when max ≤ 0).
//
// loc is the meeting's time zone (UTC when nil), and dtstart's wall clock
// in loc is the meeting's time of day, which is kept across daylight-saving
// changes: a weekly 19:00 Europe/Berlin meeting stays at 19:00 local time,
// so its UTC time moves by an hour at the change. A wall time that does not
// exist on a spring-forward day is moved forward by the length of the gap
// (RFC 5545 §3.3.5, "interpreted using the UTC offset before the gap"), and
// an ambiguous wall time on a fall-back day is the first of the two.
//
// dtstart is always the first occurrence (RFC 5545 §3.8.5.3), even when the
// rule would not produce it. COUNT counts from dtstart even when from is
// later, and UNTIL is inclusive.
func (r Rule) Occurrences(dtstart time.Time, loc *time.Location, from, to time.Time, max int) []time.Time {
	if loc == nil {
		loc = time.UTC
	}
	if max <= 0 {
		max = defaultMaxOccurrences
	}
	start := dtstart.In(loc)
	x := expansion{rule: r, loc: loc, start: start, first: civilDate(start), interval: r.Interval}
	if x.interval < 1 {
		x.interval = 1
	}
	var out []time.Time
	count := 0
	// emit records the next occurrence in order and reports whether the
	// expansion is over.
	emit := func(t time.Time) bool {
		count++
		if !t.Before(to) {
			return true
		}
		if !t.Before(from) {
			out = append(out, t)
		}
		return len(out) >= max || (r.Count > 0 && count >= r.Count)
	}
	if emit(start) {
		return out
	}
	last := civilDate(to.In(loc)).AddDate(0, 0, 2)
	k := 0
	if r.Count == 0 {
		// Without COUNT nothing before from matters, so skip the periods
		// that end before it rather than walking through them.
		k = x.periodsBefore(civilDate(from.In(loc)))
	}
	for empty := 0; empty < maxEmptyPeriods; k++ {
		periodStart, days := x.period(k)
		if periodStart.After(last) {
			break
		}
		if len(days) == 0 {
			empty++
			continue
		}
		empty = 0
		for _, day := range days {
			t := x.at(day)
			if !t.After(start) {
				continue
			}
			if r.isAfterUntil(t) {
				return out
			}
			if emit(t) {
				return out
			}
		}
	}
	return out
}

// isAfterUntil reports whether the occurrence t comes after UNTIL.
func (r Rule) isAfterUntil(t time.Time) bool {
	switch {
	case r.Until.IsZero():
		return false
	case r.UntilDate:
		return civilDate(t).After(r.Until)
	default:
		return t.After(r.Until)
	}
}

// expansion holds what Occurrences derives once from a rule and its start.
type expansion struct {
	rule     Rule
	loc      *time.Location
	start    time.Time // the first occurrence, in loc
	first    time.Time // start's civil date, as midnight UTC
	interval int
}

// at returns the occurrence on the civil date day at the start's time of
// day in loc.
func (x expansion) at(day time.Time) time.Time {
	naive := time.Date(day.Year(), day.Month(), day.Day(),
		x.start.Hour(), x.start.Minute(), x.start.Second(), x.start.Nanosecond(), time.UTC)
	return localTime(naive, x.loc)
}

// periodsBefore returns a number of periods that all end before the civil
// date from, so the expansion may start there.
func (x expansion) periodsBefore(from time.Time) int {
	var units int
	switch x.rule.Freq {
	case Daily:
		units = daysBetween(x.first, from)
	case Weekly:
		units = daysBetween(weekStart(x.first, x.rule.WeekStart), weekStart(from, x.rule.WeekStart)) / 7
	case Monthly:
		units = (from.Year()-x.first.Year())*12 + int(from.Month()) - int(x.first.Month())
	case Yearly:
		units = from.Year() - x.first.Year()
	}
	// One period less than the exact count, so that a period that begins
	// before from but holds occurrences after it is never skipped.
	return max(units/x.interval-1, 0)
}

// period returns the first civil date of the k-th period counted from the
// start and its candidate days in order; both are midnight UTC.
func (x expansion) period(k int) (time.Time, []time.Time) {
	r := x.rule
	n := k * x.interval
	switch r.Freq {
	case Daily:
		d := x.first.AddDate(0, 0, n)
		if r.hasMonth(d.Month()) && r.hasMonthDay(d) && r.hasDay(d, false) {
			return d, []time.Time{d}
		}
		return d, nil
	case Weekly:
		ws := weekStart(x.first, r.WeekStart).AddDate(0, 0, 7*n)
		var days []time.Time
		for i := range 7 {
			d := ws.AddDate(0, 0, i)
			match := d.Weekday() == x.first.Weekday()
			if len(r.ByDay) > 0 {
				match = r.hasDay(d, false)
			}
			if match && r.hasMonth(d.Month()) {
				days = append(days, d)
			}
		}
		return ws, days
	case Monthly:
		ms := time.Date(x.first.Year(), x.first.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
		if !r.hasMonth(ms.Month()) {
			return ms, nil
		}
		return ms, r.monthDays(ms, x.first.Day(), false)
	case Yearly:
		ys := time.Date(x.first.Year()+n, time.January, 1, 0, 0, 0, 0, time.UTC)
		months := []time.Month{x.first.Month()}
		switch {
		case len(r.ByMonth) > 0:
			months = slices.Clone(r.ByMonth)
			slices.Sort(months)
			months = slices.Compact(months)
		case len(r.ByMonthDay) > 0 || len(r.ByDay) > 0:
			months = []time.Month{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
		}
		// BYDAY ordinals count within the year unless BYMONTH narrows the
		// rule to months (RFC 5545 §3.3.10, BYDAY).
		yearScope := len(r.ByMonth) == 0
		var days []time.Time
		for _, m := range months {
			ms := time.Date(ys.Year(), m, 1, 0, 0, 0, 0, time.UTC)
			days = append(days, r.monthDays(ms, x.first.Day(), yearScope)...)
		}
		return ys, days
	}
	return x.first, nil
}

// monthDays returns the candidate days of the month beginning on ms: those
// BYMONTHDAY and BYDAY allow, or the start's day of the month when neither
// is given (so a meeting on the 31st skips shorter months, as RFC 5545
// requires).
func (r Rule) monthDays(ms time.Time, startDay int, yearScope bool) []time.Time {
	n := daysIn(ms.Year(), ms.Month())
	if len(r.ByMonthDay) == 0 && len(r.ByDay) == 0 {
		if startDay > n {
			return nil
		}
		return []time.Time{ms.AddDate(0, 0, startDay-1)}
	}
	var days []time.Time
	for i := range n {
		d := ms.AddDate(0, 0, i)
		if r.hasMonthDay(d) && r.hasDay(d, yearScope) {
			days = append(days, d)
		}
	}
	return days
}

// hasMonth reports whether BYMONTH allows month m.
func (r Rule) hasMonth(m time.Month) bool {
	return len(r.ByMonth) == 0 || slices.Contains(r.ByMonth, m)
}

// hasMonthDay reports whether BYMONTHDAY allows the civil date d.
func (r Rule) hasMonthDay(d time.Time) bool {
	if len(r.ByMonthDay) == 0 {
		return true
	}
	n := daysIn(d.Year(), d.Month())
	for _, md := range r.ByMonthDay {
		if md == d.Day() || md == d.Day()-n-1 {
			return true
		}
	}
	return false
}

// hasDay reports whether BYDAY allows the civil date d, counting ordinals
// within d's year when yearScope is set and within its month otherwise.
func (r Rule) hasDay(d time.Time, yearScope bool) bool {
	if len(r.ByDay) == 0 {
		return true
	}
	pos, total := d.Day(), daysIn(d.Year(), d.Month())
	if yearScope {
		pos, total = d.YearDay(), time.Date(d.Year(), time.December, 31, 0, 0, 0, 0, time.UTC).YearDay()
	}
	fromStart, fromEnd := (pos-1)/7+1, -((total-pos)/7 + 1)
	for _, w := range r.ByDay {
		if w.Weekday == d.Weekday() && (w.Ordinal == 0 || w.Ordinal == fromStart || w.Ordinal == fromEnd) {
			return true
		}
	}
	return false
}

// localTime returns the instant, in loc, whose wall clock in loc reads
// naive (a civil date and time written as UTC). When that wall time occurs
// twice (fall back) it returns the first; when it does not occur (spring
// forward) it uses the UTC offset in effect before the gap, as RFC 5545
// §3.3.5 says, which moves the time forward by the length of the gap.
// time.Date promises neither.
func localTime(naive time.Time, loc *time.Location) time.Time {
	// Real offsets lie within ±14 hours, so probes 26 hours either side of
	// naive fall before and after any transition near it.
	var best time.Time
	found := false
	for _, probe := range [...]time.Duration{-26 * time.Hour, 0, 26 * time.Hour} {
		t := naive.Add(-offsetAt(naive.Add(probe), loc)).In(loc)
		if isSameWall(t, naive) && (!found || t.Before(best)) {
			best, found = t, true
		}
	}
	if found {
		return best
	}
	return naive.Add(-offsetAt(naive.Add(-26*time.Hour), loc)).In(loc)
}

// offsetAt returns loc's UTC offset at the instant t.
func offsetAt(t time.Time, loc *time.Location) time.Duration {
	_, off := t.In(loc).Zone()
	return time.Duration(off) * time.Second
}

// isSameWall reports whether t's wall clock reads the civil time naive.
func isSameWall(t, naive time.Time) bool {
	return t.Year() == naive.Year() && t.YearDay() == naive.YearDay() &&
		t.Hour() == naive.Hour() && t.Minute() == naive.Minute() && t.Second() == naive.Second()
}

// civilDate returns t's date in its own location as midnight UTC.
func civilDate(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// weekStart returns the civil date on or before d that falls on wkst.
func weekStart(d time.Time, wkst time.Weekday) time.Time {
	return d.AddDate(0, 0, -((int(d.Weekday()) - int(wkst) + 7) % 7))
}

// daysBetween returns the number of days from civil date a to civil date b.
// It avoids time.Duration, which overflows after 292 years.
func daysBetween(a, b time.Time) int {
	return int((b.Unix() - a.Unix()) / 86400)
}

// daysIn returns the number of days in month m of year y.
func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
