// Package homeassistant is the Home Assistant bridge: for each customer
// who turned it on, a connection to their MQTT broker on which Replenish
// publishes, retained, Home Assistant's MQTT discovery configuration of
// each device and slot and their states, and takes Home Assistant's
// commands (order now, replaced today, smart reorder) through the same
// use cases as the API.
//
// States are recomputed from the database, every Interval and after each
// command and settings change in this process, and only what changed is
// published; a (re)connection publishes everything. Nothing is kept that a
// restart could lose: what a bridge published is in the database, and a
// lease per customer there lets one instance at a time run a bridge.
package homeassistant

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"replenish"
	"replenish/customers"
	"replenish/orders"
	"replenish/storage"
)

// Settings are the bridge's intervals and what it tells Home Assistant.
type Settings struct {
	// Interval is how often a connected bridge recomputes its customer's
	// states and publishes those that changed.
	Interval time.Duration
	// Sync is how often the bridge looks for customers who turned it on
	// or off, and renews its leases; a lease lasts three times as long.
	Sync time.Duration
	// RetryMin and RetryMax bound the pause before trying a broker
	// again after it failed; it doubles from one to the other.
	RetryMin, RetryMax time.Duration
	// BaseURL is the service's public URL, for links and pictures in
	// Home Assistant ("" for none).
	BaseURL string
	// Version is the service's version, told to Home Assistant.
	Version string
	// Own is Replenish's own broker, for the customers who have none
	// (zero: this Replenish runs none).
	Own OwnBroker
}

// DefaultSettings are the intervals of a server.
func DefaultSettings() Settings {
	return Settings{Interval: 30 * time.Second, Sync: 10 * time.Second, RetryMin: 5 * time.Second, RetryMax: 5 * time.Minute}
}

// Bridge runs the bridges of every customer who turned it on, one
// connection each, beside the rest of the service: a broker that is down
// or slow holds up only its own customer's bridge.
type Bridge struct {
	store     storage.Store
	customers *customers.Service
	orders    *orders.Service
	now       func() time.Time
	log       *slog.Logger
	set       Settings
	// owner names this instance in the leases.
	owner string

	mu    sync.Mutex
	links map[string]*link
	nudge chan struct{}
	wg    sync.WaitGroup
}

// New returns a Bridge on store; commands go through cs and ord, the use
// cases of the API.
func New(store storage.Store, cs *customers.Service, ord *orders.Service, now func() time.Time, log *slog.Logger, set Settings) *Bridge {
	return &Bridge{store: store, customers: cs, orders: ord, now: now, log: log, set: set,
		owner: replenish.NewID("ha-", 16), links: map[string]*link{}, nudge: make(chan struct{}, 1)}
}

// Run runs the customers' bridges until ctx ends; then each publishes
// that Replenish is offline and disconnects, and their leases are
// released for another instance to take.
func (b *Bridge) Run(ctx context.Context) {
	t := time.NewTicker(b.set.Sync)
	defer t.Stop()
	for {
		b.sync(ctx)
		select {
		case <-ctx.Done():
			b.stopAll()
			return
		case <-t.C:
		case <-b.nudge:
		}
	}
}

// Changed tells the bridge that a customer's settings or supplies changed
// in this process, so that it looks now rather than at its next interval.
// A bridge turned off on Replenish's own broker with nothing to remove
// has its Home Assistant's connections there dropped at once (otherwise
// its link does, once Home Assistant saw the entities go).
func (b *Bridge) Changed(customerID string) {
	if b.set.Own.Disconnect != nil {
		var h replenish.HomeAssistant
		err := b.store.Read(context.Background(), func(tx storage.Tx) (err error) {
			h, err = tx.HomeAssistant(context.Background(), customerID)
			return err
		})
		if err == nil && !(h.Enabled && h.Embedded) && h.Status.State == replenish.BridgeOff {
			b.set.Own.Disconnect(replenish.HomeAssistantAccount(customerID))
		}
	}
	b.mu.Lock()
	l := b.links[customerID]
	b.mu.Unlock()
	if l != nil {
		l.poke()
	}
	select {
	case b.nudge <- struct{}{}:
	default:
	}
}

// sync claims or renews the lease of every bridge that needs to run, and
// starts or stops this instance's links to match.
func (b *Bridge) sync(ctx context.Context) {
	now := b.now()
	var hs []replenish.HomeAssistant
	held := map[string]bool{}
	err := b.store.Write(ctx, func(tx storage.Tx) (err error) {
		if hs, err = tx.HomeAssistantBridges(ctx); err != nil {
			return err
		}
		for _, h := range hs {
			ok, err := tx.ClaimHomeAssistant(ctx, h.CustomerID, b.owner, now, now.Add(3*b.set.Sync))
			if err != nil {
				return err
			}
			held[h.CustomerID] = ok
		}
		return nil
	})
	if err != nil {
		if ctx.Err() == nil {
			b.log.Error("home assistant: leases", "err", err)
		}
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, h := range hs {
		l := b.links[h.CustomerID]
		switch {
		case held[h.CustomerID] && l == nil:
			b.start(ctx, h.CustomerID)
		case held[h.CustomerID] && l.generation() != h.Generation:
			l.poke()
		case !held[h.CustomerID] && l != nil:
			// Another instance holds it: our lease ran out.
			l.cancel()
		}
	}
	for id, l := range b.links {
		if _, ok := held[id]; !ok {
			l.cancel() // turned off with nothing to remove
		}
	}
}

// start runs a link for a customer; b.mu is held.
func (b *Bridge) start(ctx context.Context, customerID string) {
	ctx, cancel := context.WithCancel(ctx)
	l := &link{b: b, customerID: customerID, pokes: make(chan struct{}, 1), cancel: cancel}
	b.links[customerID] = l
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		l.run(ctx)
		cancel()
		b.mu.Lock()
		if b.links[customerID] == l {
			delete(b.links, customerID)
		}
		b.mu.Unlock()
	}()
}

// stopAll stops every link, waits for them to disconnect, and releases
// their leases.
func (b *Bridge) stopAll() {
	b.mu.Lock()
	ids := make([]string, 0, len(b.links))
	for id, l := range b.links {
		l.cancel()
		ids = append(ids, id)
	}
	b.mu.Unlock()
	b.wg.Wait()
	if len(ids) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := b.store.Write(ctx, func(tx storage.Tx) error {
		for _, id := range ids {
			if err := tx.ReleaseHomeAssistant(ctx, id, b.owner); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.log.Warn("home assistant: releasing leases", "err", err)
	}
}
