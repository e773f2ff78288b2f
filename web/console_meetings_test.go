package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/storage"
)

// meeting schedules a meeting in a community, 18:00 to 19:00 on 1 July
// 2026 in zone.
func (tc *testConsole) meeting(communityName, title, zone string) storage.Meeting {
	tc.t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		tc.t.Fatal(err)
	}
	start := time.Date(2026, 7, 1, 18, 0, 0, 0, loc)
	m, err := tc.svc.CreateMeeting(context.Background(), communityName, community.NewMeeting{Title: title, Start: start, End: start.Add(time.Hour),
		TimeZone: zone, Place: "Town hall", Capacity: 12, By: "test"})
	if err != nil {
		tc.t.Fatal(err)
	}
	return m
}

func TestUpdateMeeting(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	se := tc.admin()
	ctx := context.Background()
	m := tc.meeting("seeds", "Seed swap", "America/Argentina/Buenos_Aires")

	rec := tc.get("/admin/communities/seeds/meetings", se)
	wantBody(t, rec, `<details id="e1">`, "<summary>Edit Seed swap</summary>", `action="/admin/communities/seeds/meetings/update"`,
		`name="meeting" value="`+m.IRI+`"`, `id="e1-title" name="title" value="Seed swap"`, `id="e1-start" name="start" type="datetime-local" value="2026-07-01T18:00"`,
		`<option value="America/Argentina/Buenos_Aires" selected>`, `id="e1-capacity" name="capacity" type="number" min="0" value="12"`,
		`id="m-title" name="title" value=""`)

	edit := func(changes url.Values) url.Values {
		f := url.Values{"meeting": {m.IRI}, "title": {"Seed swap"}, "start": {"2026-07-01T18:00"}, "end": {"2026-07-01T19:00"},
			"timezone": {"America/Argentina/Buenos_Aires"}, "place": {"Town hall"}, "capacity": {"12"}}
		for k, v := range changes {
			f[k] = v
		}
		return f
	}
	for _, tt := range []struct {
		name  string
		form  url.Values
		wants []string
	}{
		{"an end before the start", edit(url.Values{"title": {"Big seed swap"}, "end": {"2026-07-01T17:00"}}),
			[]string{"must be after the start", `id="e1-end-error"`, `value="Big seed swap"`, `value="2026-07-01T17:00"`}},
		{"a place and a link", edit(url.Values{"online": {"https://meet.example/x"}, "capacity": {"many"}}),
			[]string{"give a place or an online link, not both", `value="https://meet.example/x"`, "must be a whole number", `value="many"`}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rec := tc.post("/admin/communities/seeds/meetings/update", se, tt.form)
			wantStatus(t, rec, http.StatusUnprocessableEntity)
			wantBody(t, rec, tt.wants...)
			wantBody(t, rec, `<details id="e1" open>`)
		})
	}
	if mv, _ := tc.svc.Meeting(ctx, m.IRI); mv.Meeting.Title != "Seed swap" || !mv.Meeting.End.Equal(m.End) {
		t.Fatalf("a refused edit changed the meeting: %+v", mv.Meeting)
	}

	rec = tc.post("/admin/communities/seeds/meetings/update", se, edit(url.Values{"title": {"Big seed swap"}, "start": {"2026-07-02T10:00"},
		"end": {"2026-07-02T12:00"}, "timezone": {"Europe/Berlin"}, "place": {""}, "online": {"https://meet.example/seeds"}, "capacity": {""}, "repeat": {"freq=monthly;count=3"}}))
	wantRedirect(t, rec, "/admin/communities/seeds/meetings?done=updated")
	mv, err := tc.svc.Meeting(ctx, m.IRI)
	if err != nil {
		t.Fatal(err)
	}
	got := mv.Meeting
	if want := time.Date(2026, 7, 2, 8, 0, 0, 0, time.UTC); got.Title != "Big seed swap" || !got.Start.Equal(want) || !got.End.Equal(want.Add(2*time.Hour)) ||
		got.TimeZone != "Europe/Berlin" || got.Place != "" || got.OnlineURL != "https://meet.example/seeds" || got.Capacity != 0 || got.RRule != "FREQ=MONTHLY;COUNT=3" {
		t.Errorf("updated meeting = %+v; want Big seed swap online, 08:00-10:00 UTC in Europe/Berlin, monthly 3 times, no limit", got)
	}
	if log, _ := tc.svc.AuditLog(ctx, 1); len(log) != 1 || log[0].Action != "meeting update" || log[0].Target != m.IRI || log[0].Username != "root" {
		t.Errorf("audit log = %+v, want the update by root first", log)
	}
	wantBody(t, tc.get("/admin/communities/seeds/meetings?done=updated", se), "Meeting updated", "Thu 2 Jul 2026 10:00 – 12:00 (Europe/Berlin)",
		`id="e1-title" name="title" value="Big seed swap"`)

	t.Run("an unknown meeting", func(t *testing.T) {
		rec := tc.post("/admin/communities/seeds/meetings/update", se, edit(url.Values{"meeting": {"https://coppice.example/c/seeds/events/nothing"}}))
		wantStatus(t, rec, http.StatusNotFound)
	})
	t.Run("a cancelled meeting", func(t *testing.T) {
		wantRedirect(t, tc.post("/admin/communities/seeds/meetings/cancel", se, url.Values{"meeting": {m.IRI}}), "/admin/communities/seeds/meetings?done=cancelled")
		rec := tc.post("/admin/communities/seeds/meetings/update", se, edit(url.Values{"title": {"Revived"}}))
		wantStatus(t, rec, http.StatusConflict)
		wantBody(t, rec, "A cancelled meeting cannot be edited.")
		if strings.Contains(tc.get("/admin/communities/seeds/meetings", se).Body.String(), "<summary>Edit") {
			t.Error("a cancelled meeting is offered for editing")
		}
	})
}

func TestUpdateMeetingIsGuarded(t *testing.T) {
	t.Parallel()
	tc := newTestConsole(t, "https://coppice.example")
	ctx := context.Background()
	seedsMeeting := tc.meeting("seeds", "Seed swap", "UTC")
	tc.account("mo", storage.AccountSteward, map[string]string{"bees": storage.RoleModerator})
	mo := tc.signIn("mo")
	form := func() url.Values {
		return url.Values{"meeting": {seedsMeeting.IRI}, "title": {"Taken over"}, "start": {"2026-07-01T18:00"}, "end": {"2026-07-01T19:00"}, "timezone": {"UTC"}}
	}

	t.Run("without the CSRF token", func(t *testing.T) {
		se := tc.admin()
		rec := tc.request(http.MethodPost, "/admin/communities/seeds/meetings/update", se, strings.NewReader(form().Encode()), "application/x-www-form-urlencoded")
		wantStatus(t, rec, http.StatusForbidden)
	})
	t.Run("a steward of another community", func(t *testing.T) {
		wantStatus(t, tc.post("/admin/communities/seeds/meetings/update", mo, form()), http.StatusForbidden)
	})
	t.Run("a meeting of another community through one's own", func(t *testing.T) {
		wantStatus(t, tc.post("/admin/communities/bees/meetings/update", mo, form()), http.StatusForbidden)
	})
	if mv, _ := tc.svc.Meeting(ctx, seedsMeeting.IRI); mv.Meeting.Title != "Seed swap" {
		t.Errorf("a refused request renamed the meeting to %q", mv.Meeting.Title)
	}
	if log, _ := tc.svc.AuditLog(ctx, 10); len(log) != 0 {
		t.Errorf("audit log = %+v, want nothing done", log)
	}

	// A broker of seeds may edit it.
	tc.account("bro", storage.AccountSteward, map[string]string{"seeds": storage.RoleBroker})
	wantRedirect(t, tc.post("/admin/communities/seeds/meetings/update", tc.signIn("bro"), form()), "/admin/communities/seeds/meetings?done=updated")
	if mv, _ := tc.svc.Meeting(ctx, seedsMeeting.IRI); mv.Meeting.Title != "Taken over" {
		t.Errorf("title after the broker's edit = %q", mv.Meeting.Title)
	}
}
