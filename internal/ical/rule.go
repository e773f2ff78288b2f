package ical

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrUnsupported is wrapped by the errors ParseRule returns for valid RFC
// 5545 rule parts and values that this package does not implement, such as
// BYSETPOS or FREQ=HOURLY.
var ErrUnsupported = errors.New("unsupported")

// Frequency is the FREQ of a recurrence rule.
type Frequency string

// The frequencies meetings use.
const (
	Daily   Frequency = "DAILY"
	Weekly  Frequency = "WEEKLY"
	Monthly Frequency = "MONTHLY"
	Yearly  Frequency = "YEARLY"
)

// WeekdayNum is one entry of BYDAY: a weekday with an optional ordinal.
// Ordinal 0 means every such weekday; 2 means the second one and -1 the
// last one within the month (FREQ=MONTHLY, or FREQ=YEARLY with BYMONTH) or
// the year (FREQ=YEARLY without BYMONTH).
type WeekdayNum struct {
	Ordinal int
	Weekday time.Weekday
}

// String returns the entry as RRULE text, such as "TU", "2TU" or "-1FR".
func (w WeekdayNum) String() string {
	if w.Ordinal == 0 {
		return weekdayCode(w.Weekday)
	}
	return strconv.Itoa(w.Ordinal) + weekdayCode(w.Weekday)
}

// Rule is a parsed RRULE (RFC 5545 §3.3.10), the subset meetings use:
// FREQ=DAILY, WEEKLY, MONTHLY or YEARLY with INTERVAL, COUNT, UNTIL, BYDAY,
// BYMONTHDAY, BYMONTH and WKST.
type Rule struct {
	Freq Frequency
	// Interval is the number of periods between occurrences; ParseRule sets
	// 1 when INTERVAL is absent.
	Interval int
	// Count is the number of occurrences, counted from the first one
	// (DTSTART); 0 when COUNT is absent.
	Count int
	// Until is the last instant an occurrence may start, in UTC; zero when
	// UNTIL is absent.
	Until time.Time
	// UntilDate is true when UNTIL was a DATE: Until is then midnight UTC of
	// that date, and every occurrence on that date in the meeting's time
	// zone is included.
	UntilDate  bool
	ByDay      []WeekdayNum
	ByMonthDay []int
	ByMonth    []time.Month
	// WeekStart is WKST; ParseRule sets Monday, the RFC default, when WKST
	// is absent.
	WeekStart time.Weekday
}

// weekdayCodes holds the RFC 5545 two-letter weekday names in time.Weekday
// order.
const weekdayCodes = "SUMOTUWETHFRSA"

// weekdayCode returns the two-letter RFC 5545 name of d.
func weekdayCode(d time.Weekday) string {
	if d < time.Sunday || d > time.Saturday {
		return "??"
	}
	return weekdayCodes[2*d : 2*d+2]
}

// maxRuleLen bounds the RRULE text ParseRule reads; real rules are short.
const maxRuleLen = 1024

// ParseRule parses an RRULE value, with or without the "RRULE:" prefix.
// Rule part names and values are read case-insensitively. Rule parts other
// than FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYMONTH and WKST, and
// frequencies other than DAILY, WEEKLY, MONTHLY and YEARLY, are rejected
// with an error wrapping ErrUnsupported.
func ParseRule(s string) (Rule, error) {
	if len(s) > maxRuleLen {
		return Rule{}, fmt.Errorf("parse rrule: longer than %d bytes", maxRuleLen)
	}
	text := strings.ToUpper(strings.TrimSpace(s))
	text = strings.TrimPrefix(text, "RRULE:")
	r := Rule{Interval: 1, WeekStart: time.Monday}
	seen := make(map[string]bool)
	for part := range strings.SplitSeq(text, ";") {
		if part == "" {
			// Some producers end the rule with a semicolon.
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		if !ok || name == "" {
			return Rule{}, fmt.Errorf("parse rrule %q: rule part %q is not NAME=VALUE", s, part)
		}
		if value == "" {
			return Rule{}, fmt.Errorf("parse rrule %q: %s has no value", s, name)
		}
		if seen[name] {
			return Rule{}, fmt.Errorf("parse rrule %q: %s given twice", s, name)
		}
		seen[name] = true
		if err := r.setPart(name, value); err != nil {
			return Rule{}, fmt.Errorf("parse rrule %q: %w", s, err)
		}
	}
	if err := r.validate(); err != nil {
		return Rule{}, fmt.Errorf("parse rrule %q: %w", s, err)
	}
	return r, nil
}

// setPart stores one rule part of an upper-cased RRULE.
func (r *Rule) setPart(name, value string) error {
	var err error
	switch name {
	case "FREQ":
		switch f := Frequency(value); f {
		case Daily, Weekly, Monthly, Yearly:
			r.Freq = f
		case "SECONDLY", "MINUTELY", "HOURLY":
			return fmt.Errorf("FREQ=%s: %w", value, ErrUnsupported)
		default:
			return fmt.Errorf("unknown FREQ %q", value)
		}
	case "INTERVAL":
		r.Interval, err = positive(name, value)
	case "COUNT":
		r.Count, err = positive(name, value)
	case "UNTIL":
		return r.setUntil(value)
	case "BYDAY":
		for v := range strings.SplitSeq(value, ",") {
			w, err := parseWeekdayNum(v)
			if err != nil {
				return err
			}
			r.ByDay = append(r.ByDay, w)
		}
	case "BYMONTHDAY":
		for v := range strings.SplitSeq(value, ",") {
			n, err := strconv.Atoi(v)
			if err != nil || n == 0 || n < -31 || n > 31 {
				return fmt.Errorf("BYMONTHDAY %q is not a day of the month (1 to 31 or -31 to -1)", v)
			}
			r.ByMonthDay = append(r.ByMonthDay, n)
		}
	case "BYMONTH":
		for v := range strings.SplitSeq(value, ",") {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 12 {
				return fmt.Errorf("BYMONTH %q is not a month (1 to 12)", v)
			}
			r.ByMonth = append(r.ByMonth, time.Month(n))
		}
	case "WKST":
		d, ok := weekday(value)
		if !ok {
			return fmt.Errorf("WKST %q is not a weekday", value)
		}
		r.WeekStart = d
	case "BYSECOND", "BYMINUTE", "BYHOUR", "BYYEARDAY", "BYWEEKNO", "BYSETPOS":
		return fmt.Errorf("rule part %s: %w", name, ErrUnsupported)
	default:
		return fmt.Errorf("unknown rule part %q", name)
	}
	return err
}

// setUntil parses UNTIL in its UTC date-time form or as a DATE. RFC 5545
// §3.3.10 requires UTC when DTSTART has a time zone, as a meeting's always
// does, so the floating date-time form is refused.
func (r *Rule) setUntil(value string) error {
	switch len(value) {
	case len("20060102"):
		t, err := time.Parse("20060102", value)
		if err != nil {
			return fmt.Errorf("UNTIL %q is not a date", value)
		}
		r.Until, r.UntilDate = t, true
	case len("20060102T150405Z"):
		t, err := time.Parse("20060102T150405Z", value)
		if err != nil {
			return fmt.Errorf("UNTIL %q is not a UTC date-time (YYYYMMDDTHHMMSSZ)", value)
		}
		r.Until = t
	default:
		return fmt.Errorf("UNTIL %q is neither a date nor a UTC date-time", value)
	}
	return nil
}

// positive parses the value of an INTERVAL or COUNT rule part.
func positive(name, value string) (int, error) {
	n, err := strconv.Atoi(value)
	if err != nil || n < 1 || n > maxInterval {
		return 0, fmt.Errorf("%s %q is not a whole number from 1 to %d", name, value, maxInterval)
	}
	return n, nil
}

// maxInterval bounds INTERVAL and COUNT so that date arithmetic on them
// cannot overflow.
const maxInterval = 1_000_000

// parseWeekdayNum parses one BYDAY entry such as "TU", "2TU" or "-1FR".
func parseWeekdayNum(v string) (WeekdayNum, error) {
	if len(v) < 2 {
		return WeekdayNum{}, fmt.Errorf("BYDAY %q is not a weekday", v)
	}
	d, ok := weekday(v[len(v)-2:])
	if !ok {
		return WeekdayNum{}, fmt.Errorf("BYDAY %q is not a weekday", v)
	}
	w := WeekdayNum{Weekday: d}
	if ord := v[:len(v)-2]; ord != "" {
		n, err := strconv.Atoi(ord)
		if err != nil || n == 0 || n < -53 || n > 53 {
			return WeekdayNum{}, fmt.Errorf("BYDAY %q has an ordinal outside 1 to 53 and -53 to -1", v)
		}
		w.Ordinal = n
	}
	return w, nil
}

// weekday returns the weekday named by a two-letter RFC 5545 code.
func weekday(code string) (time.Weekday, bool) {
	for d := time.Sunday; d <= time.Saturday; d++ {
		if weekdayCode(d) == code {
			return d, true
		}
	}
	return 0, false
}

// validate checks the combinations RFC 5545 §3.3.10 forbids.
func (r Rule) validate() error {
	if r.Freq == "" {
		return errors.New("FREQ is missing")
	}
	if r.Count != 0 && !r.Until.IsZero() {
		return errors.New("COUNT and UNTIL must not both be given")
	}
	if r.Freq == Weekly && len(r.ByMonthDay) > 0 {
		return errors.New("BYMONTHDAY must not be given with FREQ=WEEKLY")
	}
	if r.Freq == Daily || r.Freq == Weekly {
		for _, w := range r.ByDay {
			if w.Ordinal != 0 {
				return fmt.Errorf("BYDAY %s has an ordinal, which only FREQ=MONTHLY and FREQ=YEARLY allow", w)
			}
		}
	}
	return nil
}

// String returns the rule as canonical RRULE text, without the "RRULE:"
// prefix: FREQ, then INTERVAL (when not 1), COUNT or UNTIL, BYMONTH,
// BYMONTHDAY, BYDAY and WKST (when not Monday).
func (r Rule) String() string {
	var b strings.Builder
	b.WriteString("FREQ=")
	b.WriteString(string(r.Freq))
	if r.Interval > 1 {
		fmt.Fprintf(&b, ";INTERVAL=%d", r.Interval)
	}
	if r.Count > 0 {
		fmt.Fprintf(&b, ";COUNT=%d", r.Count)
	}
	if !r.Until.IsZero() {
		if r.UntilDate {
			b.WriteString(";UNTIL=" + r.Until.Format("20060102"))
		} else {
			b.WriteString(";UNTIL=" + r.Until.UTC().Format("20060102T150405Z"))
		}
	}
	writeList(&b, "BYMONTH", r.ByMonth, func(m time.Month) string { return strconv.Itoa(int(m)) })
	writeList(&b, "BYMONTHDAY", r.ByMonthDay, strconv.Itoa)
	writeList(&b, "BYDAY", r.ByDay, WeekdayNum.String)
	if r.WeekStart != time.Monday {
		b.WriteString(";WKST=" + weekdayCode(r.WeekStart))
	}
	return b.String()
}

// writeList writes ";NAME=a,b,c" when list is not empty.
func writeList[T any](b *strings.Builder, name string, list []T, format func(T) string) {
	for i, v := range list {
		if i == 0 {
			b.WriteString(";" + name + "=")
		} else {
			b.WriteString(",")
		}
		b.WriteString(format(v))
	}
}
