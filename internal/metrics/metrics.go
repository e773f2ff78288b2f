package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// namespace prefixes every metric of ours.
const namespace = "coppice"

// Metrics records what a Coppice process does. Make one with New.
type Metrics struct {
	reg *prometheus.Registry

	inboxActivities *prometheus.CounterVec
	inboxSeconds    *prometheus.HistogramVec
	httpRequests    *prometheus.CounterVec
	httpSeconds     *prometheus.HistogramVec
	writeTxSeconds  prometheus.Histogram
	writeRetries    prometheus.Counter
}

// New registers the metrics of a Coppice process, and the Go runtime and
// process collectors, with reg.
func New(reg *prometheus.Registry) *Metrics {
	m := &Metrics{
		reg: reg,
		inboxActivities: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "inbox", Name: "activities_total",
			Help: "Activities POSTed to our inboxes, by activity type and outcome (accepted, rejected, unauthorized, forbidden, deferred: 429 or 503, the peer retries; error).",
		}, []string{"type", "outcome"}),
		inboxSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "inbox", Name: "request_duration_seconds",
			Help:    "Time to handle one inbox POST, from its headers being read to the answer, by outcome.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"outcome"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "http", Name: "requests_total",
			Help: "HTTP requests answered, by method, route pattern and status code.",
		}, []string{"method", "route", "status"}),
		httpSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "http", Name: "request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		writeTxSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: "storage", Name: "write_transaction_seconds",
			Help:    "Time of a write transaction, from asking for the database's single writer connection (waiting for it included) to commit or rollback.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		writeRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "storage", Name: "write_retries_total",
			Help: "Write transactions (group-commit batches) PostgreSQL could not serialize with another process's, run again alone through the write gate. Always 0 on SQLite.",
		}),
	}
	reg.MustRegister(m.inboxActivities, m.inboxSeconds, m.httpRequests, m.httpSeconds, m.writeTxSeconds, m.writeRetries,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format (or OpenMetrics,
// when the scraper asks for it). A failing collector is logged through the
// error log of the process and answered with 500.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		Registry:          m.reg, // promhttp_metric_handler_errors_total
		EnableOpenMetrics: true,
		Timeout:           10 * time.Second,
	})
}

// isCountedType reports whether an activity type is counted under its own
// name; any other type a peer sends is counted as "other", so a peer cannot
// grow the label set without bound.
func isCountedType(t string) bool {
	switch t {
	case "Accept", "Add", "Announce", "Block", "Create", "Delete", "Dislike", "EmojiReact", "Flag",
		"Follow", "Join", "Leave", "Like", "Lock", "Move", "Reject", "Remove", "TentativeAccept", "Undo", "Update":
		return true
	}
	return false
}

// Inbox records one inbox POST: the activity's type ("" when the body did
// not get as far as being parsed), its outcome and how long it took.
func (m *Metrics) Inbox(activityType, outcome string, took time.Duration) {
	if m == nil {
		return
	}
	switch {
	case activityType == "":
		activityType = "unknown"
	case !isCountedType(activityType):
		activityType = "other"
	}
	m.inboxActivities.WithLabelValues(activityType, outcome).Inc()
	m.inboxSeconds.WithLabelValues(outcome).Observe(took.Seconds())
}

// HTTPRequest records one answered request. route is the pattern of the
// route that matched ("/c/{name}"), or "" when none did.
func (m *Metrics) HTTPRequest(method, route string, status int, took time.Duration) {
	if m == nil {
		return
	}
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodOptions, http.MethodPatch:
	default:
		method = "other" // a client cannot grow the label set
	}
	if route == "" {
		route = "unmatched"
	}
	m.httpRequests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.httpSeconds.WithLabelValues(route).Observe(took.Seconds())
}

// WriteRetried counts a write transaction run again (storage.WithRetryObserver).
func (m *Metrics) WriteRetried() {
	if m == nil {
		return
	}
	m.writeRetries.Inc()
}

// WriteTransaction records how long one write transaction took. Its method
// value is what storage.Open takes as its transaction observer.
func (m *Metrics) WriteTransaction(took time.Duration) {
	if m == nil {
		return
	}
	m.writeTxSeconds.Observe(took.Seconds())
}

// DeliveryStats are the counters of a delivery worker since it started.
type DeliveryStats struct {
	Delivered, Dropped, Retried, Failed, Unauthorized, InFlight int64
}

// WatchDeliveries exposes the counters of the delivery worker, read from
// stats at every scrape.
func (m *Metrics) WatchDeliveries(stats func() DeliveryStats) {
	if m == nil {
		return
	}
	outcomes := []struct {
		name string
		get  func(DeliveryStats) int64
	}{
		{"delivered", func(s DeliveryStats) int64 { return s.Delivered }},
		{"dropped", func(s DeliveryStats) int64 { return s.Dropped }},
		{"retried", func(s DeliveryStats) int64 { return s.Retried }},
		{"failed", func(s DeliveryStats) int64 { return s.Failed }},
	}
	for _, o := range outcomes {
		m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "delivery", Name: "attempts_total",
			Help:        "Delivery attempts by outcome: delivered (2xx), dropped (the inbox is gone: 404, 410), retried (will be tried again), failed (refused or given up).",
			ConstLabels: prometheus.Labels{"outcome": o.name},
		}, func() float64 { return float64(o.get(stats())) }))
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "delivery", Name: "unauthorized_total",
			Help: "Delivery attempts answered 401 (retried); many of them mean our clock or key is wrong.",
		}, func() float64 { return float64(stats().Unauthorized) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: "delivery", Name: "in_flight",
			Help: "Delivery requests under way.",
		}, func() float64 { return float64(stats().InFlight) }),
	)
}

// KeyStats are the counters of the remote key cache since it was made.
type KeyStats struct {
	CacheHits, Fetches, FetchErrors, StaleUsed int64
}

// WatchKeys exposes the counters of the remote key cache, read from stats
// at every scrape.
func (m *Metrics) WatchKeys(stats func() KeyStats) {
	if m == nil {
		return
	}
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "keys", Name: "cache_hits_total",
			Help: "Remote key lookups answered from the fresh cache, without a fetch.",
		}, func() float64 { return float64(stats().CacheHits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "keys", Name: "fetches_total",
			Help: "Remote actor documents fetched for their keys, successful or not.",
		}, func() float64 { return float64(stats().Fetches) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "keys", Name: "fetch_errors_total",
			Help: "Key fetches that failed (unreachable host, bad document, wrong owner).",
		}, func() float64 { return float64(stats().FetchErrors) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: "keys", Name: "stale_used_total",
			Help: "Key lookups answered from an expired cache entry because the key's host was down.",
		}, func() float64 { return float64(stats().StaleUsed) }),
	)
}

// QueueState is the delivery queue as the database holds it.
type QueueState struct {
	Queued, Failed int
	FanOuts        int // activities for the followers whose deliveries are not all done
	// OldestDue is when the longest-waiting due delivery fell due; zero
	// when nothing is due.
	OldestDue        time.Time
	FailingHosts     int // hosts whose last delivery failed
	UnreachableHosts int // hosts given up on until they answer again
}

// WatchQueue exposes the delivery queue, read with state at every scrape
// (one query on a read connection). now is the clock the age of the oldest
// due delivery is measured with.
func (m *Metrics) WatchQueue(state func(context.Context) (QueueState, error), now func() time.Time) {
	if m == nil {
		return
	}
	m.reg.MustRegister(&queueCollector{
		state: state, now: now,
		depth: prometheus.NewDesc(namespace+"_delivery_queue_depth",
			"Deliveries in the queue by state: queued (waiting or due) and failed (given up, kept for the console).", []string{"state"}, nil),
		fanOuts: prometheus.NewDesc(namespace+"_delivery_fan_outs",
			"Activities queued for a community's followers whose deliveries are not all done (one per activity, not per inbox).", nil, nil),
		oldestDue: prometheus.NewDesc(namespace+"_delivery_oldest_due_age_seconds",
			"How long the longest-waiting due delivery has been due; 0 when nothing is due. It grows when the worker falls behind.", nil, nil),
		hosts: prometheus.NewDesc(namespace+"_delivery_hosts",
			"Remote hosts by delivery health: failing (the last delivery failed) and unreachable (failing for days; nothing new is queued for them).", []string{"health"}, nil),
	})
}

// queueCollector reads the queue at scrape time.
type queueCollector struct {
	state                            func(context.Context) (QueueState, error)
	now                              func() time.Time
	depth, fanOuts, oldestDue, hosts *prometheus.Desc
}

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.fanOuts
	ch <- c.oldestDue
	ch <- c.hosts
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := c.state(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.depth, err)
		return
	}
	age := 0.0
	if !s.OldestDue.IsZero() {
		age = max(c.now().Sub(s.OldestDue).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Queued), "queued")
	ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Failed), "failed")
	ch <- prometheus.MustNewConstMetric(c.fanOuts, prometheus.GaugeValue, float64(s.FanOuts))
	ch <- prometheus.MustNewConstMetric(c.oldestDue, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(c.hosts, prometheus.GaugeValue, float64(s.FailingHosts), "failing")
	ch <- prometheus.MustNewConstMetric(c.hosts, prometheus.GaugeValue, float64(s.UnreachableHosts), "unreachable")
}
