package simulator

import (
	"maps"
	"math"
	"slices"
	"sync"
	"time"
)

// Stats counts what a fleet did, safely from many goroutines.
type Stats struct {
	mu      sync.Mutex
	start   time.Time
	s       Summary
	latency []time.Duration
}

// Summary is a snapshot of Stats.
type Summary struct {
	Elapsed   time.Duration
	Customers int // linked
	Devices   int // discovered
	Day       int // simulated days done

	Sent     int // event deliveries, repeats included
	Accepted int // answered 202
	Repeats  int // deliveries of a messageId already sent
	// Stored is how many distinct events were accepted: what the gateway
	// should have stored, since an accepted repeat has no second effect.
	Stored int
	// Interrupted counts deliveries cut off by the end of the run, whose
	// outcome is unknown: the gateway may have stored them.
	Interrupted int
	// Rejected counts refusals by the gateway's exception code ("" for a
	// delivery that got no answer), RejectedEvents by the event's name.
	Rejected       map[string]int
	RejectedEvents map[string]int
	// Injected counts the deliveries of events broken on purpose,
	// InjectedRejected those of them the gateway refused, as it must.
	Injected, InjectedRejected int

	// StateReports counts the deliveries (among Sent) of StateReports
	// answering Replenish's ReportState directives.
	StateReports int
	// Resent counts the events that kits sent again over MQTT because no
	// ack came in time.
	Resent int

	Missed int // device-days without reports
	Late   int // level reports held back to arrive after a newer one
	Silent int // devices that went silent for good

	P50, P90, P99, Max time.Duration // of the deliveries' round trips
}

// NewStats starts counting now.
func NewStats() *Stats {
	return &Stats{start: time.Now(), s: Summary{Rejected: map[string]int{}, RejectedEvents: map[string]int{}}}
}

// Rate is the deliveries per second of real time.
func (s Summary) Rate() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Sent) / s.Elapsed.Seconds()
}

// RejectedTotal is the number of refused deliveries.
func (s Summary) RejectedTotal() int {
	n := 0
	for _, v := range s.Rejected {
		n += v
	}
	return n
}

func (s *Stats) update(f func(*Summary)) {
	s.mu.Lock()
	f(&s.s)
	s.mu.Unlock()
}

// Linked records one more customer linked, and the devices linked so far.
func (s *Stats) Linked(devices int) {
	s.update(func(s *Summary) { s.Customers++; s.Devices = devices })
}

// delivered records one delivery of m and its outcome.
func (s *Stats) delivered(m message, repeat bool, status int, code string, took time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.s.Sent++
	if repeat {
		s.s.Repeats++
	}
	if m.bad {
		s.s.Injected++
	}
	s.latency = append(s.latency, took)
	if status == 202 {
		s.s.Accepted++
		if !repeat {
			s.s.Stored++
		}
		return
	}
	s.s.Rejected[code]++
	s.s.RejectedEvents[m.name]++
	if m.bad {
		s.s.InjectedRejected++
	}
}

// Day records that simulated day n is done.
func (s *Stats) Day(n int) { s.update(func(s *Summary) { s.Day = n }) }

// Summary returns what was counted so far.
func (s *Stats) Summary() Summary {
	s.mu.Lock()
	out := s.s
	out.Rejected, out.RejectedEvents = maps.Clone(s.s.Rejected), maps.Clone(s.s.RejectedEvents)
	lat := slices.Clone(s.latency)
	s.mu.Unlock()
	out.Elapsed = time.Since(s.start)
	slices.Sort(lat)
	if n := len(lat); n > 0 {
		// Nearest rank: the smallest value with at least p of them at or below it.
		at := func(p float64) time.Duration { return lat[max(0, int(math.Ceil(p*float64(n)))-1)] }
		out.P50, out.P90, out.P99, out.Max = at(0.50), at(0.90), at(0.99), lat[n-1]
	}
	return out
}
