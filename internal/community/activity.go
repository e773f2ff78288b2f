package community

import (
	"context"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// Spans of the console's charts.
const (
	ActivityDays  = 90 // posts and new members per day
	DeliveryHours = 48 // deliveries per hour and queue depth
)

// Count is one point of a chart: a day or an hour and its count. Known is
// false when nothing was recorded for it (the queue was not sampled: the
// server was down).
type Count struct {
	At    time.Time
	Value int
	Known bool
}

// CommunityActivity is what a community's charts show: its posts and new
// members per UTC day over the last ActivityDays days, oldest first.
type CommunityActivity struct {
	Posts, NewMembers []Count
}

// CommunityActivity counts the posts and new members of the communities
// with the given IDs (summed) per day over the last ActivityDays days.
func (s *Service) CommunityActivity(ctx context.Context, communityIDs ...int64) (CommunityActivity, error) {
	today := s.now().UTC().Truncate(24 * time.Hour)
	since, until := today.Add(-(ActivityDays-1)*24*time.Hour), today.Add(24*time.Hour)
	a := CommunityActivity{Posts: emptyCounts(since, ActivityDays, 24*time.Hour, true), NewMembers: emptyCounts(since, ActivityDays, 24*time.Hour, true)}
	for _, id := range communityIDs {
		posts, err := s.store.PostsPerDay(ctx, id, since, until)
		if err != nil {
			return CommunityActivity{}, err
		}
		addDays(a.Posts, posts, since)
		members, err := s.store.NewMembersPerDay(ctx, id, since, until)
		if err != nil {
			return CommunityActivity{}, err
		}
		addDays(a.NewMembers, members, since)
	}
	return a, nil
}

// DeliveryActivity is what the instance's charts show, per hour over the
// last DeliveryHours hours, oldest first: delivery attempts by outcome and
// the largest queue depth sampled.
type DeliveryActivity struct {
	Delivered, Dropped, Retried, Failed []Count
	QueueDepth                          []Count
}

// DeliveryActivity reads the hourly delivery history.
func (s *Service) DeliveryActivity(ctx context.Context) (DeliveryActivity, error) {
	hour := s.now().UTC().Truncate(time.Hour)
	since := hour.Add(-(DeliveryHours - 1) * time.Hour)
	d := DeliveryActivity{
		Delivered: emptyCounts(since, DeliveryHours, time.Hour, true), Dropped: emptyCounts(since, DeliveryHours, time.Hour, true),
		Retried: emptyCounts(since, DeliveryHours, time.Hour, true), Failed: emptyCounts(since, DeliveryHours, time.Hour, true),
		QueueDepth: emptyCounts(since, DeliveryHours, time.Hour, false),
	}
	hours, err := s.store.DeliveryHours(ctx, since)
	if err != nil {
		return DeliveryActivity{}, err
	}
	series := map[string][]Count{storage.OutcomeDelivered: d.Delivered, storage.OutcomeDropped: d.Dropped,
		storage.OutcomeRetried: d.Retried, storage.OutcomeFailed: d.Failed}
	for _, h := range hours {
		if i := int(h.Hour.Sub(since) / time.Hour); i >= 0 && i < DeliveryHours {
			series[h.Outcome][i].Value += h.Count
		}
	}
	depths, err := s.store.QueueDepthHours(ctx, since)
	if err != nil {
		return DeliveryActivity{}, err
	}
	for _, q := range depths {
		if i := int(q.Hour.Sub(since) / time.Hour); i >= 0 && i < DeliveryHours {
			d.QueueDepth[i] = Count{At: q.Hour, Value: q.Depth, Known: true}
		}
	}
	return d, nil
}

func emptyCounts(since time.Time, n int, step time.Duration, known bool) []Count {
	out := make([]Count, n)
	for i := range out {
		out[i] = Count{At: since.Add(time.Duration(i) * step), Known: known}
	}
	return out
}

func addDays(into []Count, days []storage.DayCount, since time.Time) {
	for _, d := range days {
		if i := int(d.Day.Sub(since) / (24 * time.Hour)); i >= 0 && i < len(into) {
			into[i].Value += d.Count
		}
	}
}
