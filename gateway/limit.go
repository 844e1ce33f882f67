package gateway

import (
	"math"
	"sync"
	"time"

	"replenish"
)

// Limiter is a token bucket per sender (a vendor's cloud, or a device):
// each may send Rate events per second on average and Burst at once. It
// keeps one small entry per sender since the process started.
type Limiter struct {
	rate  float64
	burst float64

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewLimiter returns a Limiter of rate events per second and burst events
// at once per vendor; a rate of 0 or less means no limit.
func NewLimiter(rate float64, burst int) *Limiter {
	if rate <= 0 {
		return nil
	}
	return &Limiter{rate: rate, burst: float64(max(burst, 1)), buckets: map[string]*bucket{}}
}

// Take spends one event of sender key's allowance at time now, or says
// how long it must wait for the next one; kind ("vendor", "device") names
// the sender in the error. A nil Limiter never refuses.
func (l *Limiter) Take(kind, key string, now time.Time) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.buckets[key]
	if b == nil {
		b = &bucket{tokens: l.burst, at: now}
		l.buckets[key] = b
	}
	if now.After(b.at) {
		b.tokens = min(l.burst, b.tokens+now.Sub(b.at).Seconds()*l.rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return nil
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / l.rate * float64(time.Second)))
	return &replenish.Error{Code: replenish.EThrottled, RetryAfter: wait,
		Message: kind + " " + key + " sends events faster than its rate; retry after the Retry-After seconds"}
}
