// Package ical expands the recurrence rules of meetings and writes and
// reads the iCalendar (RFC 5545) feed of a community's meetings.
//
// [ParseRule] reads the subset of RRULE (§3.3.10) meetings use: FREQ of
// DAILY, WEEKLY, MONTHLY or YEARLY; INTERVAL; COUNT or UNTIL (a UTC
// date-time in "Z" form, or a DATE); BYDAY, with an ordinal (1MO, 2TU,
// -1FR) for MONTHLY and YEARLY; BYMONTHDAY, negative ones counting from
// the end of the month; BYMONTH; and WKST. It rejects BYSECOND, BYMINUTE,
// BYHOUR, BYYEARDAY, BYWEEKNO, BYSETPOS and the SECONDLY, MINUTELY and
// HOURLY frequencies with an error wrapping [ErrUnsupported], and
// combinations the RFC forbids (COUNT with UNTIL, BYMONTHDAY with WEEKLY,
// BYDAY ordinals with DAILY or WEEKLY). [Rule.Occurrences] expands a rule
// in the meeting's time zone, keeping its wall-clock time of day across
// daylight-saving changes.
//
// [Write] writes a VCALENDAR for publishing (METHOD:PUBLISH) with one
// VEVENT per meeting carrying UID, DTSTAMP, DTSTART, DTEND, RRULE,
// SUMMARY, DESCRIPTION, URL, LOCATION, STATUS, SEQUENCE, CREATED and
// LAST-MODIFIED, and a VTIMEZONE for every zone used, built from Go's zone
// data. [Parse] reads those properties back from our feeds and from other
// calendar software and ignores the rest (alarms, attendees, EXDATE); an
// override with RECURRENCE-ID comes back as an event of its own.
//
// The package does no I/O beyond the reader and writer it is given and
// keeps no state: the current time is an argument, never time.Now. It
// knows nothing about storage, HTTP or ActivityStreams.
package ical
