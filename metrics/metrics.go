// Package metrics is what Replenish tells Prometheus: HTTP requests by
// route and status with their latency, gateway events by type and outcome,
// group-commit sizes, storage errors, notification deliveries, and, read
// from the database at each scrape, orders by state and the outbox's
// depth. The counters are the process's; a Registry gathers them with the
// Go runtime's and the process's own for one server's /metrics.
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

const namespace = "replenish"

var (
	httpRequests = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "http_requests_total",
		Help: "HTTP requests answered, by route pattern, method and status code."}, []string{"route", "method", "code"})
	httpDuration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "http_request_duration_seconds",
		Help:    "How long HTTP requests took to answer, by route pattern.",
		Buckets: []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5}}, []string{"route"})
	events = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "gateway_events_total",
		Help: "Events the gateway took or refused, by type (namespace.name) and outcome (accepted, or the error code)."},
		[]string{"type", "outcome"})
	groupSize = prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace, Name: "storage_group_commit_size",
		Help: "Writes carried by each commit of the single writer.", Buckets: prometheus.ExponentialBuckets(1, 2, 10)})
	storageErrors = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "storage_errors_total",
		Help: "Transactions that failed in the database, by kind (busy, full, io, memory, other)."}, []string{"kind"})
	deliveries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "notification_deliveries_total",
		Help: "Notification delivery attempts, by channel and outcome (delivered, retry, failed)."}, []string{"channel", "outcome"})
)

func init() {
	// Every kind shows, at 0 until it happens: an alert on a rate needs
	// the series to exist.
	for _, kind := range []string{"busy", "full", "io", "memory", "other"} {
		storageErrors.WithLabelValues(kind)
	}
}

// Request counts one HTTP request answered with code after d. route is
// the pattern that matched ("" when none did).
func Request(route, method string, code int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	httpRequests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	httpDuration.WithLabelValues(route).Observe(d.Seconds())
}

// Event counts one gateway event of type typ ("" when unreadable) with
// its outcome.
func Event(typ, outcome string) {
	if typ == "" {
		typ = "unreadable"
	}
	events.WithLabelValues(typ, outcome).Inc()
}

// GroupCommit records a commit that carried n writes.
func GroupCommit(n int) { groupSize.Observe(float64(n)) }

// StorageError counts a transaction that failed in the database.
func StorageError(kind string) { storageErrors.WithLabelValues(kind).Inc() }

// Delivery counts one delivery attempt of a notification.
func Delivery(channel, outcome string) { deliveries.WithLabelValues(channel, outcome).Inc() }

// Gauges are what the database says at a scrape: orders by state and
// notifications waiting in the outbox by channel.
type Gauges func(ctx context.Context) (orders, outbox map[string]int, err error)

// Handler serves the metrics of one server in Prometheus's text format,
// with the database's gauges read by gauges at each scrape.
func Handler(gauges Gauges) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		httpRequests, httpDuration, events, groupSize, storageErrors, deliveries, &database{gauges: gauges})
	return promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
}

var (
	ordersDesc = prometheus.NewDesc(namespace+"_orders", "Orders by state.", []string{"status"}, nil)
	outboxDesc = prometheus.NewDesc(namespace+"_outbox_pending",
		"Notifications waiting in the outbox to be delivered, by channel.", []string{"channel"}, nil)
	upDesc = prometheus.NewDesc(namespace+"_database_up",
		"Whether the database answered the scrape's queries (1) or not (0).", nil, nil)
)

// database is the collector of the gauges the database gives.
type database struct{ gauges Gauges }

func (d *database) Describe(ch chan<- *prometheus.Desc) {
	ch <- ordersDesc
	ch <- outboxDesc
	ch <- upDesc
}

func (d *database) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	orders, outbox, err := d.gauges(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(upDesc, prometheus.GaugeValue, 1)
	for status, n := range orders {
		ch <- prometheus.MustNewConstMetric(ordersDesc, prometheus.GaugeValue, float64(n), status)
	}
	for channel, n := range outbox {
		ch <- prometheus.MustNewConstMetric(outboxDesc, prometheus.GaugeValue, float64(n), channel)
	}
}
