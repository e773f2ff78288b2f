package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coppice-dev/coppice/federation/fedtest"
	"github.com/coppice-dev/coppice/internal/community"
	"github.com/coppice-dev/coppice/internal/ical"
	"github.com/coppice-dev/coppice/storage"
)

func typed(typ string, match func(map[string]any) bool) func(fedtest.Received) bool {
	return func(r fedtest.Received) bool {
		if r.Activity["type"] != typ {
			return false
		}
		obj, _ := r.Activity["object"].(map[string]any)
		return match(obj)
	}
}

// TestResourceProposalPublishArchive: a remote member proposes a link with
// #resource; it waits, unannounced; a broker publishes it and a follower
// on another host receives it; archived, it leaves the collection.
func TestResourceProposalPublishArchive(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	followers := fedtest.New(t, fedtest.OnAddress("127.0.0.6"))
	alice, bob := peer.NewActor("alice"), followers.NewActor("bob")
	member(t, ti, peer, alice)
	member(t, ti, followers, bob)
	ours := ti.actor("seedbreeders")

	before := counts(t, ti.store)["outbox_activities"]
	body := note(alice, "r1", ours, "", `<p>Isolation distances for tomatoes <a href="https://seeds.example/isolation.pdf">guide</a> <a href="https://`+strings.TrimPrefix(peer.URL, "http://")+`/tags/resource" class="mention hashtag" rel="tag">#<span>resource</span></a></p>`, true, true)
	if code, resp := alice.Post(t, ti.inbox("seedbreeders"), body); code != 202 {
		t.Fatalf("proposal: %d %s", code, resp)
	}
	c := mustCommunity(t, ti, "seedbreeders")
	_, proposed, err := ti.svc.Resources(ctx, c, storage.ResourceProposed, 0, 10)
	if err != nil || len(proposed) != 1 {
		t.Fatalf("proposed = %v, %v; want one", proposed, err)
	}
	r := proposed[0]
	if r.URL != "https://seeds.example/isolation.pdf" || r.ProposedBy != alice.IRI || r.State != "proposed" {
		t.Errorf("proposal = %+v", r)
	}
	if after := counts(t, ti.store)["outbox_activities"]; after != before {
		t.Errorf("a proposal was announced: %d → %d activities", before, after)
	}

	if _, err := ti.svc.SetResourceState(ctx, r.IRI, storage.ResourcePublished, "broker:carol"); err != nil {
		t.Fatal(err)
	}
	got := followers.Wait(t, 1, wait, typed("Create", func(o map[string]any) bool { return o["id"] == r.IRI }))
	obj := got[0].Activity["object"].(map[string]any)
	if got[0].Err != nil || obj["type"] != "Page" || obj["url"] != "https://seeds.example/isolation.pdf" || !strings.Contains(obj["name"].(string), "Isolation distances") {
		t.Errorf("Create{Page} = %v (%v)", obj, got[0].Err)
	}
	followers.Wait(t, 1, wait, func(rec fedtest.Received) bool {
		return rec.Activity["type"] == "Add" && rec.Activity["object"] == r.IRI && rec.Activity["target"] == ours+"/resources"
	})
	_, body2 := get(t, ours+"/resources?page=1", "application/activity+json")
	if items, _ := decode(t, body2)["orderedItems"].([]any); len(items) != 1 || items[0] != r.IRI {
		t.Errorf("resources collection = %v", items)
	}
	res, _ := get(t, r.IRI, "application/activity+json")
	if res.StatusCode != 200 {
		t.Errorf("GET resource: %d", res.StatusCode)
	}

	if _, err := ti.svc.SetResourceState(ctx, r.IRI, storage.ResourceArchived, "broker:carol"); err != nil {
		t.Fatal(err)
	}
	followers.Wait(t, 1, wait, func(rec fedtest.Received) bool {
		return rec.Activity["type"] == "Remove" && rec.Activity["object"] == r.IRI
	})
	_, body2 = get(t, ours+"/resources", "application/activity+json")
	if n := decode(t, body2)["totalItems"]; n != float64(0) {
		t.Errorf("resources after archiving: %v items, want 0", n)
	}
	if res, _ := get(t, r.IRI, "application/activity+json"); res.StatusCode != 410 {
		t.Errorf("GET archived resource: %d, want 410", res.StatusCode)
	}
}

func rsvpFixture(t *testing.T, file string, a *fedtest.Actor, id, event string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata/rsvp", file))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "signature") // an LD signature we do not trust anyway
	m["actor"], m["id"], m["object"] = a.IRI, a.IRI+"/rsvp/"+id, event
	b, _ := json.Marshal(m)
	return b
}

// TestMeetingRSVPs: a meeting reaches a follower as Create{Event} with the
// right times; three members answer three ways (Mobilizon Join, Friendica
// TentativeAccept, a Mastodon poll vote); duplicates count once; counts
// and the .ics are right; cancelling federates.
func TestMeetingRSVPs(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	followers := fedtest.New(t, fedtest.OnAddress("127.0.0.7"))
	mob, fri, mast, eve := peer.NewActor("mob"), peer.NewActor("fri"), peer.NewActor("mast"), peer.NewActor("eve")
	bob := followers.NewActor("bob")
	member(t, ti, followers, bob)
	for _, a := range []*fedtest.Actor{mob, fri, mast, eve} {
		member(t, ti, peer, a) // only members answer meetings
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	start := time.Date(2026, 12, 3, 19, 0, 0, 0, berlin)
	m, err := ti.svc.CreateMeeting(ctx, "seedbreeders", community.NewMeeting{
		Title: "Seed swap planning", Description: "Bring your lists.", Start: start, End: start.Add(90 * time.Minute),
		TimeZone: "Europe/Berlin", OnlineURL: "https://meet.example/seeds", RRule: "FREQ=WEEKLY;COUNT=4", By: "admin",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := followers.Wait(t, 1, wait, typed("Create", func(o map[string]any) bool { return o["id"] == m.IRI }))
	ev := got[0].Activity["object"].(map[string]any)
	if ev["type"] != "Event" || ev["startTime"] != "2026-12-03T18:00:00Z" || ev["endTime"] != "2026-12-03T19:30:00Z" || ev["timezone"] != "Europe/Berlin" || ev["name"] != "Seed swap planning" {
		t.Errorf("Create{Event} object = %v", ev)
	}
	poll := followers.Wait(t, 1, wait, typed("Create", func(o map[string]any) bool { return o["id"] == m.PollIRI }))
	if q := poll[0].Activity["object"].(map[string]any); q["type"] != "Question" || len(q["oneOf"].([]any)) != 3 {
		t.Errorf("Create{Question} = %v", q)
	}

	vote := func(a *fedtest.Actor, id, option string) []byte {
		b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/votes/" + id, "type": "Create", "actor": a.IRI,
			"to":     []any{ti.actor("seedbreeders")},
			"object": map[string]any{"id": a.IRI + "/votes/" + id + "/note", "type": "Note", "attributedTo": a.IRI, "name": option, "inReplyTo": m.PollIRI, "to": []any{ti.actor("seedbreeders")}}})
		return b
	}
	answer := func(a *fedtest.Actor, typ, id string) []byte {
		b, _ := json.Marshal(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": a.IRI + "/rsvp/" + id, "type": typ, "actor": a.IRI, "object": m.IRI})
		return b
	}
	steps := []struct {
		name  string
		who   *fedtest.Actor
		body  []byte
		going int
		maybe int
		no    int
	}{
		{"Mobilizon Join", mob, rsvpFixture(t, "mobilizon-join-activity.json", mob, "j1", m.IRI), 1, 0, 0},
		{"Mobilizon Join replayed", mob, rsvpFixture(t, "mobilizon-join-activity.json", mob, "j1", m.IRI), 1, 0, 0},
		{"Mobilizon Join again with a new id", mob, rsvpFixture(t, "mobilizon-join-activity.json", mob, "j2", m.IRI), 1, 0, 0},
		{"Friendica TentativeAccept", fri, answer(fri, "TentativeAccept", "t1"), 1, 1, 0},
		{"Mastodon poll vote Not going", mast, vote(mast, "v1", "Not going"), 1, 1, 1},
		{"Friendica Accept (last answer wins)", fri, answer(fri, "Accept", "a1"), 2, 0, 1},
		{"Mastodon poll vote Going", mast, vote(mast, "v2", "Going"), 3, 0, 0},
		{"Friendica Reject", eve, answer(eve, "Reject", "r1"), 3, 0, 1},
		{"Mobilizon Leave", mob, rsvpFixture(t, "mobilizon-leave-activity.json", mob, "l1", m.IRI), 2, 0, 1},
	}
	for _, st := range steps {
		if code, body := st.who.Post(t, ti.sharedInbox(), st.body); code != 202 {
			t.Fatalf("%s: %d %s", st.name, code, body)
		}
		mv, err := ti.svc.Meeting(ctx, m.IRI)
		if err != nil {
			t.Fatal(err)
		}
		if c := mv.Counts; c.Going != st.going || c.Maybe != st.maybe || c.Declined != st.no {
			t.Errorf("after %s: going %d maybe %d declined %d, want %d %d %d", st.name, c.Going, c.Maybe, c.Declined, st.going, st.maybe, st.no)
		}
	}
	// Nine answers, one batch: a single Update of the Event and the poll.
	if n, err := ti.svc.SendChangedCounts(ctx, 0); err != nil || n != 1 {
		t.Fatalf("SendChangedCounts = %d, %v; want 1 meeting", n, err)
	}
	followers.Wait(t, 1, wait, typed("Update", func(o map[string]any) bool { return o["id"] == m.IRI && o["participantCount"] == float64(2) }))
	if n, err := ti.svc.SendChangedCounts(ctx, 0); err != nil || n != 0 {
		t.Errorf("SendChangedCounts again = %d, %v; want nothing left to send", n, err)
	}

	// The calendar feed parses back with the meeting and its rule.
	res, body := get(t, ti.actor("seedbreeders")+"/meetings.ics", "")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/calendar") {
		t.Fatalf("meetings.ics: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	events, err := ical.Parse(bytes.NewReader(body))
	if err != nil || len(events) != 1 {
		t.Fatalf("parse meetings.ics: %v, %d events\n%s", err, len(events), body)
	}
	if e := events[0]; !e.Start.Equal(start) || e.TimeZone != "Europe/Berlin" || e.RRule != "FREQ=WEEKLY;COUNT=4" || e.UID != m.IRI {
		t.Errorf("calendar event = %+v", e)
	}

	if _, err := ti.svc.CancelMeeting(ctx, m.IRI); err != nil {
		t.Fatal(err)
	}
	followers.Wait(t, 1, wait, typed("Update", func(o map[string]any) bool { return o["id"] == m.IRI && o["ical:status"] == "CANCELLED" }))
	if code, _ := eve.Post(t, ti.sharedInbox(), answer(eve, "Join", "late")); code != 403 {
		t.Errorf("Join of a cancelled meeting: %d, want 403", code)
	}
}

func TestSearch(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	peer := fedtest.New(t)
	alice := peer.NewActor("alice")
	member(t, ti, peer, alice)
	if code, body := alice.Post(t, ti.inbox("seedbreeders"), note(alice, "s1", ti.actor("seedbreeders"), "", "<p>Heirloom beans keep their flavour</p>", true, true)); code != 202 {
		t.Fatalf("post: %d %s", code, body)
	}
	if _, err := ti.svc.AddResource(ctx, "seedbreeders", community.NewResource{Kind: "method", Title: "Bean threshing by hand", Description: "Dry pods, tarp, stick.", Tags: "beans, harvest", By: "admin"}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		url, want string
	}{
		{ti.actor("seedbreeders") + "/search?q=heirloom", "Heirloom beans keep their flavour"},
		{ti.actor("seedbreeders") + "/search?q=thresh", "Bean threshing by hand"},
		{ti.URL + "/search?q=beans", "Bean threshing by hand"},
		{ti.URL + "/search?q=" + `%22%29+OR+*`, "Nothing matches"},
	} {
		res, body := get(t, tt.url, "text/html")
		if res.StatusCode != 200 || !strings.Contains(string(body), tt.want) {
			t.Errorf("GET %s: %d, page lacks %q", tt.url, res.StatusCode, tt.want)
		}
	}
}

// TestMeetingUpdateFederates: changed details reach followers as
// Update{Event} with the new times.
func TestMeetingUpdateFederates(t *testing.T) {
	ti := newInstance(t, true)
	ctx := context.Background()
	followers := fedtest.New(t, fedtest.OnAddress("127.0.0.14"))
	bob := followers.NewActor("bob")
	member(t, ti, followers, bob)
	start := time.Date(2026, 12, 3, 18, 0, 0, 0, time.UTC)
	n := community.NewMeeting{Title: "Potluck", Start: start, End: start.Add(time.Hour), TimeZone: "UTC", Place: "Hall"}
	m, err := ti.svc.CreateMeeting(ctx, "seedbreeders", n)
	if err != nil {
		t.Fatal(err)
	}
	n.Start, n.End, n.Place = start.Add(24*time.Hour), start.Add(25*time.Hour), "Garden"
	if _, err := ti.svc.UpdateMeeting(ctx, m.IRI, n); err != nil {
		t.Fatal(err)
	}
	got := followers.Wait(t, 1, wait, typed("Update", func(o map[string]any) bool { return o["id"] == m.IRI }))
	ev := got[0].Activity["object"].(map[string]any)
	if ev["startTime"] != "2026-12-04T18:00:00Z" || ev["location"].(map[string]any)["name"] != "Garden" {
		t.Errorf("Update{Event} = %v", ev)
	}
}
