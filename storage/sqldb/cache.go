package sqldb

import (
	"hash/maphash"
	"math"
	"slices"
	"strings"
	"time"

	"replenish"
	"replenish/storage"
)

// The writer's cache. Every event the gateway takes looks up its access
// token and loads its endpoint's configuration (a join over four tables)
// before it writes anything, and the single writer runs those lookups one
// event after another. Yet tokens and endpoints change rarely, and only
// through this same writer. So the writer keeps what it loaded, and throws
// it away on any write that could change it.
//
// The rule is deliberately blunt: a write statement leaves the cache as it
// is only when it goes to a table that no cached lookup reads (events,
// readings, feed, orders); any other write empties it, whatever it
// changed. The one write the gateway makes to a cached row, a slot's
// engine state, goes through SetSlotState, which updates the cached slot
// as well (write-through) and remembers the old state, so that a member
// of a group that fails is undone in the cache as in the database.
//
// The cache belongs to the writer goroutine: it is never shared, so it
// needs no lock. Reads on the reader pool never see it.
//
// It holds hundreds of thousands of rows, and the garbage collector would
// trace every pointer in them at each cycle (with Go values, some 60 per
// endpoint: a cycle took 200 ms and lengthened the slowest answers). So
// it holds no pointers per row: strings that repeat over many rows (vendor
// codes, model IDs, slot configurations) are interned in small tables and
// named by index; the others are copied into one byte buffer and named by
// offset; the maps are keyed by hash and by slot key.

// What the cache holds at most: slots (a slot with its rate estimate and
// its share of its endpoint takes about 260 bytes, so some 136 MB in
// all), tokens, and
// bytes of text. When one is full it starts over: a fleet more active
// than that is served as without a cache, bar the first load of each
// endpoint.
const (
	maxCachedSlots  = 1 << 19
	maxCachedGrants = 1 << 19
	maxCachedText   = 64 << 20
)

// neutralTables are the tables whose writes leave the cache valid.
var neutralTables = []string{"events", "readings", "feed", "orders", "order_steps", "fulfilments",
	"household_changes", "slot_changes", "notifications", "notification_settings", "homeassistant_bridges", "devices"}

type writerCache struct {
	// neutral remembers, by SQL text, whether a statement leaves the
	// cache valid.
	neutral map[string]bool
	seed    maphash.Seed

	strs    []string          // interned strings
	strIDs  map[string]uint32 // their indexes
	configs []replenish.EndpointSlot
	// configIDs interns slot configurations: an EndpointSlot without its
	// keys, its endpoint's fields and its state.
	configIDs map[replenish.EndpointSlot]uint32
	text      []byte // the other strings

	endpoints map[uint64]int32 // by hash of customer and endpoint ID, into eps
	eps       []cachedEndpoint
	slotAt    map[int64]int32 // by slot key, into slots
	slots     []cachedSlot
	grants    map[uint64]int32 // by hash of token hash and kind, into grantList
	grantList []cachedGrant

	// undo restores the slot states a group member changed, newest last.
	undo []slotUndo
	// tainted is set when a member wrote what the cache does not follow
	// exactly, or emptied it: what was loaded after that may hold the
	// member's writes, and is dropped if the member fails.
	tainted bool
}

// text is a string copied into writerCache.text.
type text struct{ off, n uint32 }

type cachedEndpoint struct {
	customer, endpoint, name text
	vendor, model            uint32
	first, n                 int32 // its slots, in key order
}

type cachedSlot struct {
	key    int64
	config uint32
	state  cachedState
}

// cachedState is a SlotState; times are Unix microseconds, noTime for none.
type cachedState struct {
	rate                        replenish.Rate
	amount, capacity, household float64
	onOrder                     float64
	last, replaced, cooldown    int64
	lowCount, cancelStreak      int64
	notified                    bool
	ordered                     bool
	openOrder                   text
}

type cachedGrant struct {
	hash, customer           text
	kind, vendor             uint32
	expires, used, revokedAt int64
}

type slotUndo struct {
	slot  int32
	state cachedState
}

const noTime = math.MinInt64

func newWriterCache() *writerCache {
	// A slot's state is written through (setState).
	c := &writerCache{neutral: map[string]bool{setSlotState: true}, seed: maphash.MakeSeed()}
	c.clear()
	return c
}

// drop forgets everything in the middle of a group member.
func (c *writerCache) drop() {
	c.clear()
	c.tainted = true
}

// clear forgets everything, between group members.
func (c *writerCache) clear() {
	if c == nil {
		return
	}
	c.tainted = false
	c.strs, c.strIDs = nil, map[string]uint32{}
	c.configs, c.configIDs = nil, map[replenish.EndpointSlot]uint32{}
	c.text = nil
	c.endpoints, c.eps = map[uint64]int32{}, nil
	c.slotAt, c.slots = map[int64]int32{}, nil
	c.grants, c.grantList = map[uint64]int32{}, nil
	c.undo = c.undo[:0]
}

// wrote is told of every statement the writer runs; it empties the cache
// unless the statement is a read or writes a neutral table.
func (c *writerCache) wrote(query string) {
	if c == nil {
		return
	}
	neutral, ok := c.neutral[query]
	if !ok {
		table, write := target(query)
		neutral = !write || slices.Contains(neutralTables, table)
		if len(c.neutral) < maxPrepared {
			c.neutral[query] = neutral
		}
	}
	if !neutral {
		c.drop()
	}
}

// skipWords are the words between a write's verb and its table.
var skipWords = map[string]bool{"OR": true, "ROLLBACK": true, "ABORT": true, "REPLACE": true,
	"FAIL": true, "IGNORE": true, "INTO": true, "FROM": true}

// target returns the table a statement writes, and whether it writes at
// all. A statement that it cannot read counts as a write of an unknown
// table.
func target(query string) (table string, write bool) {
	words := strings.Fields(query)
	if len(words) == 0 {
		return "", false
	}
	verb := strings.ToUpper(words[0])
	switch verb {
	case "SELECT", "SAVEPOINT", "RELEASE", "ROLLBACK":
		// A group member's savepoint: the group undoes the member's
		// changes to the cache itself (rollback).
		return "", false
	}
	// INSERT [OR x] INTO t, REPLACE INTO t, UPDATE [OR x] t, DELETE FROM t.
	if verb != "INSERT" && verb != "REPLACE" && verb != "UPDATE" && verb != "DELETE" {
		return "", true
	}
	for _, w := range words[1:] {
		if !skipWords[strings.ToUpper(w)] {
			name, _, _ := strings.Cut(w, "(")
			return strings.ToLower(name), true
		}
	}
	return "", true
}

// Strings in and out.

func (c *writerCache) intern(s string) uint32 {
	id, ok := c.strIDs[s]
	if !ok {
		id = uint32(len(c.strs))
		c.strs = append(c.strs, s)
		c.strIDs[s] = id
	}
	return id
}

func (c *writerCache) put(s string) text {
	t := text{uint32(len(c.text)), uint32(len(s))}
	c.text = append(c.text, s...)
	return t
}

func (c *writerCache) str(t text) string { return string(c.text[t.off : t.off+t.n]) }

func (c *writerCache) is(t text, s string) bool { return string(c.text[t.off:t.off+t.n]) == s }

func (c *writerCache) full(slots, grants int) bool {
	return len(c.slots)+slots > maxCachedSlots || len(c.grantList)+grants > maxCachedGrants ||
		len(c.text) > maxCachedText
}

func (c *writerCache) hash(a, b string) uint64 {
	var h maphash.Hash
	h.SetSeed(c.seed)
	h.WriteString(a)
	h.WriteByte(0)
	h.WriteString(b)
	return h.Sum64()
}

func toMicros(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixMicro()
}

func fromMicrosInt(n int64) time.Time {
	if n == noTime {
		return time.Time{}
	}
	return time.UnixMicro(n).UTC()
}

// Tokens.

// grant returns the cached grant for hash and kind.
func (c *writerCache) grant(hash []byte, kind string) (storage.Grant, bool) {
	i, ok := c.grants[c.hash(string(hash), kind)]
	if !ok {
		return storage.Grant{}, false
	}
	g := c.grantList[i]
	if !c.is(g.hash, string(hash)) || c.strs[g.kind] != kind {
		return storage.Grant{}, false
	}
	return storage.Grant{Hash: hash, Kind: kind, VendorCode: c.strs[g.vendor], CustomerID: c.str(g.customer),
		ExpiresAt: fromMicrosInt(g.expires), UsedAt: fromMicrosInt(g.used), RevokedAt: fromMicrosInt(g.revokedAt)}, true
}

func (c *writerCache) putGrant(g storage.Grant) {
	if c.full(0, 1) {
		c.drop()
	}
	c.grants[c.hash(string(g.Hash), g.Kind)] = int32(len(c.grantList))
	c.grantList = append(c.grantList, cachedGrant{hash: c.put(string(g.Hash)), customer: c.put(g.CustomerID),
		kind: c.intern(g.Kind), vendor: c.intern(g.VendorCode),
		expires: toMicros(g.ExpiresAt), used: toMicros(g.UsedAt), revokedAt: toMicros(g.RevokedAt)})
}

// Endpoints.

// endpoint returns the cached endpoint with the slots of instances (see
// wanted), in key order.
func (c *writerCache) endpoint(customerID, endpointID string, instances []string) (replenish.Endpoint, bool) {
	if c == nil {
		return replenish.Endpoint{}, false
	}
	i, ok := c.endpoints[c.hash(customerID, endpointID)]
	if !ok {
		return replenish.Endpoint{}, false
	}
	ce := c.eps[i]
	if !c.is(ce.customer, customerID) || !c.is(ce.endpoint, endpointID) {
		return replenish.Endpoint{}, false
	}
	e := replenish.Endpoint{EndpointID: endpointID, CustomerID: customerID, VendorCode: c.strs[ce.vendor],
		ModelID: c.strs[ce.model], FriendlyName: c.str(ce.name)}
	for _, s := range c.slots[ce.first : ce.first+ce.n] {
		sl := c.configs[s.config]
		if !wanted(instances, sl.Instance) {
			continue
		}
		sl.ID, sl.EndpointID, sl.CustomerID, sl.VendorCode, sl.ModelID = s.key, e.EndpointID, e.CustomerID, e.VendorCode, e.ModelID
		sl.State = c.state(s.state)
		e.Slots = append(e.Slots, sl)
	}
	return e, true
}

// putEndpoint keeps e, loaded with all its slots.
func (c *writerCache) putEndpoint(e replenish.Endpoint) {
	if c == nil {
		return
	}
	if c.full(len(e.Slots), 0) {
		c.drop()
	}
	ce := cachedEndpoint{customer: c.put(e.CustomerID), endpoint: c.put(e.EndpointID), name: c.put(e.FriendlyName),
		vendor: c.intern(e.VendorCode), model: c.intern(e.ModelID), first: int32(len(c.slots)), n: int32(len(e.Slots))}
	for _, s := range e.Slots {
		cfg := s
		cfg.ID, cfg.EndpointID, cfg.CustomerID, cfg.VendorCode, cfg.ModelID = 0, "", "", "", ""
		cfg.State = replenish.SlotState{}
		id, ok := c.configIDs[cfg]
		if !ok {
			id = uint32(len(c.configs))
			c.configs = append(c.configs, cfg)
			c.configIDs[cfg] = id
		}
		c.slotAt[s.ID] = int32(len(c.slots))
		c.slots = append(c.slots, cachedSlot{key: s.ID, config: id, state: c.cachedState(s.State)})
	}
	c.endpoints[c.hash(e.CustomerID, e.EndpointID)] = int32(len(c.eps))
	c.eps = append(c.eps, ce)
}

func (c *writerCache) cachedState(st replenish.SlotState) cachedState {
	return cachedState{rate: st.Rate, onOrder: st.OnOrder, amount: st.Amount, capacity: st.Capacity, household: st.Household,
		last: toMicros(st.LastSampleAt), replaced: toMicros(st.ReplacedAt), cooldown: toMicros(st.CooldownUntil),
		lowCount: int64(st.LowCount), cancelStreak: int64(st.CancelStreak), notified: st.Notified,
		ordered: st.Ordered, openOrder: c.put(st.OpenOrderID)}
}

func (c *writerCache) state(s cachedState) replenish.SlotState {
	return replenish.SlotState{Rate: s.rate, OnOrder: s.onOrder, Amount: s.amount, Capacity: s.capacity, Household: s.household,
		LastSampleAt: fromMicrosInt(s.last), ReplacedAt: fromMicrosInt(s.replaced), CooldownUntil: fromMicrosInt(s.cooldown),
		LowCount: int(s.lowCount), CancelStreak: int(s.cancelStreak), Notified: s.notified,
		Ordered: s.ordered, OpenOrderID: c.str(s.openOrder)}
}

// setState writes a slot's new state through, remembering the old one.
func (c *writerCache) setState(slotKey int64, st replenish.SlotState) {
	if c == nil {
		return
	}
	i, ok := c.slotAt[slotKey]
	if !ok {
		// Not followed: a later load in this member would see it.
		c.tainted = true
		return
	}
	if c.full(0, 0) {
		c.drop()
		return
	}
	c.undo = append(c.undo, slotUndo{i, c.slots[i].state})
	c.slots[i].state = c.cachedState(st)
}

// keep ends a group member whose work stays.
func (c *writerCache) keep() {
	if c == nil {
		return
	}
	c.undo, c.tainted = c.undo[:0], false
}

// rollback undoes what a failed group member did to the cache.
func (c *writerCache) rollback() {
	if c == nil {
		return
	}
	if c.tainted {
		c.clear()
		return
	}
	for i := len(c.undo) - 1; i >= 0; i-- {
		c.slots[c.undo[i].slot].state = c.undo[i].state
	}
	c.undo = c.undo[:0]
}
