package simulator

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"replenish"
)

// Noise is how often devices misbehave, each a chance per device and
// simulated day (Repeat and BadClock per message).
type Noise struct {
	Repeat   float64 // a message is sent again with the same messageId, as a retry after a lost answer
	Late     float64 // the day's level report is held back and arrives after the next day's
	Missed   float64 // the device sends nothing that day; its use carries over
	Silent   float64 // the device stops reporting for good
	BadClock float64 // a level report is stamped an hour ahead; the gateway must refuse it
}

// DefaultNoise is the noise of a fleet at scale 1; 0 is a clean fleet.
func DefaultNoise(scale float64) Noise {
	return Noise{Repeat: 0.01 * scale, Late: 0.01 * scale, Missed: 0.02 * scale, Silent: 0.0005 * scale,
		BadClock: 0.002 * scale}
}

// RunOptions shape a fleet's run.
type RunOptions struct {
	Days int // simulated days; every device reports on day 0 and after each day
	// Speed is simulated seconds per real second, at most: a day does not
	// start before the previous day's reports are answered.
	Speed       float64
	Concurrency int // deliveries in flight
	Noise       Noise
}

// Households plans a fleet of n devices of the given kinds for customers
// with 1 to maxPer devices each, and returns each customer's kinds.
func Households(n, maxPer int, kinds []*Kind, r *rand.Rand) [][]*Kind {
	var out [][]*Kind
	for n > 0 {
		h := make([]*Kind, min(n, 1+r.IntN(maxPer)))
		for i := range h {
			h[i] = kinds[r.IntN(len(kinds))]
		}
		out = append(out, h)
		n -= len(h)
	}
	return out
}

// FleetDevices returns a Config.NewDevices that gives the account-th
// customer to link the devices of households[account], each with its
// own random source drawn from seed, so that a seed replays every
// device's life whatever order customers link in.
func FleetDevices(households [][]*Kind, seed uint64) func(account int) []*Device {
	first := make([]int, len(households)) // the fleet-wide number of each household's first device
	for i := 1; i < len(households); i++ {
		first[i] = first[i-1] + len(households[i-1])
	}
	return func(account int) []*Device {
		if account >= len(households) {
			return nil
		}
		var ds []*Device
		for j, k := range households[account] {
			n := first[account] + j
			r := rand.New(rand.NewPCG(seed, uint64(n)))
			ds = append(ds, NewDevice(k, fmt.Sprintf("%s-%05d-%s", k.Name, n+1, replenish.NewID("", 4)),
				fmt.Sprintf("%s %d", k.DeviceName, j+1), r))
		}
		return ds
	}
}

// Simulate runs the linked fleet for o.Days simulated days: each day every
// device uses its supplies, then reports them, with o.Noise. Outcomes go
// to st. It returns when the days are done or ctx ends.
func (c *Cloud) Simulate(ctx context.Context, o RunOptions, st *Stats) {
	type job struct {
		a *Account
		d *Device
	}
	day := time.Duration(float64(24*time.Hour) / o.Speed)
	start := time.Now()
	for n := 0; n <= o.Days; n++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(start.Add(time.Duration(n) * day))):
		}
		jobs := make(chan job)
		var wg sync.WaitGroup
		for range max(1, o.Concurrency) {
			wg.Go(func() {
				for j := range jobs {
					c.deviceDay(ctx, j.a, j.d, n > 0, o.Noise, st)
				}
			})
		}
	feed:
		for _, a := range c.Accounts() {
			for _, d := range a.Devices {
				select {
				case jobs <- job{a, d}:
				case <-ctx.Done():
					break feed
				}
			}
		}
		close(jobs)
		wg.Wait()
		if ctx.Err() != nil {
			return
		}
		st.update(func(s *Summary) { s.Day = n })
	}
	// What was held back arrives at last, after everything newer.
	for _, a := range c.Accounts() {
		for _, d := range a.Devices {
			for _, m := range d.held {
				c.deliver(ctx, m, false, st)
			}
			d.held = nil
		}
	}
}

// Backfill has device d of account a report its levels once a day for the
// days before now, after a day of use each, as a device that kept a log
// of its own would once linked: Replenish learns its rate of use at once,
// rather than after days of reports.
func (c *Cloud) Backfill(ctx context.Context, a *Account, d *Device, days int, now time.Time) error {
	for i := days; i >= 1; i-- {
		d.step(1)
		status, err := c.Report(ctx, a, d, replenish.NewUUID(), now.Add(-time.Duration(i)*24*time.Hour))
		if err != nil {
			return err
		}
		if status != http.StatusAccepted {
			return fmt.Errorf("%s: the gateway answered %d to a report of %d days ago", d.EndpointID, status, i)
		}
	}
	return nil
}

// deviceDay is one simulated day of one device: use (unless it is the
// first day), then its reports, with the day's noise, and any report held
// back the day before.
func (c *Cloud) deviceDay(ctx context.Context, a *Account, d *Device, use bool, noise Noise, st *Stats) {
	held := d.held
	d.held = nil
	if use {
		d.step(1)
	}
	var msgs []message
	switch {
	case d.silent:
	case d.rand.Float64() < noise.Silent:
		d.silent = true
		st.update(func(s *Summary) { s.Silent++ })
	case d.rand.Float64() < noise.Missed:
		st.update(func(s *Summary) { s.Missed++ })
	default:
		token, err := a.token(ctx, c.cfg)
		if err != nil {
			if ctx.Err() == nil {
				c.cfg.Log.Warn("refreshing a token failed", "err", err)
				st.delivered(message{name: "token refresh"}, false, 0, "", 0)
			}
			return
		}
		msgs = d.messages(token, time.Now(), replenish.NewUUID)
		if len(msgs) > 0 && msgs[0].name == "ChangeReport" {
			switch {
			case d.rand.Float64() < noise.BadClock:
				msgs[0], _ = d.levelReport(token, replenish.NewUUID(), time.Now().Add(time.Hour))
				msgs[0].bad = true
			case d.rand.Float64() < noise.Late:
				d.held = append(d.held, msgs[0])
				msgs = msgs[1:]
				st.update(func(s *Summary) { s.Late++ })
			}
		}
	}
	for _, m := range append(msgs, held...) {
		c.deliver(ctx, m, false, st)
		if d.rand.Float64() < noise.Repeat {
			c.deliver(ctx, m, true, st)
		}
	}
}

// deliver sends m, waiting and sending again while the gateway asks to
// (429 and 503 with Retry-After), and records the outcome.
func (c *Cloud) deliver(ctx context.Context, m message, repeat bool, st *Stats) {
	began := time.Now()
	for attempt := 1; ; attempt++ {
		status, code, wait, err := c.send(ctx, m)
		if ctx.Err() != nil && status != http.StatusAccepted {
			// The run ended mid-delivery: the gateway may or may not have
			// stored the event, so it is counted apart.
			st.update(func(s *Summary) { s.Interrupted++ })
			return
		}
		if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && attempt < 5 {
			select {
			case <-time.After(wait):
				continue
			case <-ctx.Done():
				return
			}
		}
		if err != nil && status != http.StatusAccepted && !m.bad {
			c.cfg.Log.Warn("event refused", "event", m.name, "err", err)
		}
		st.delivered(m, repeat, status, code, time.Since(began))
		return
	}
}

// retryAfter reads a Retry-After header in seconds, within reason.
func retryAfter(h string) time.Duration {
	s, err := strconv.Atoi(h)
	if err != nil || s < 1 {
		return time.Second
	}
	return min(time.Duration(s)*time.Second, 10*time.Second)
}
