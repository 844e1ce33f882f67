package customers

import (
	"context"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"replenish"
	"replenish/measure"
	"replenish/storage"
)

// HistoryLimit is how many history entries one page holds at most.
const HistoryLimit = 500

// HistoryQuery selects a page of a slot's history: from and to are times
// (RFC 3339, or a date), cursor continues a page.
type HistoryQuery struct {
	From, To, Cursor string
	Limit            int
}

// History returns a slot's history, newest first, in the units the
// customer reads the slot in, with the cursor of the next page ("" when
// there is none).
func (s *Service) History(ctx context.Context, customerID, endpointID, slotID string, q HistoryQuery) ([]replenish.HistoryEntry, string, error) {
	f := storage.HistoryFilter{Limit: q.Limit}
	fields := replenish.Fields{}
	var err error
	if f.From, err = parseWhen(q.From); err != nil {
		fields.Add("from", err.Error())
	}
	if f.To, err = parseWhen(q.To); err != nil {
		fields.Add("to", err.Error())
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		fields.Add("to", "must be after from")
	}
	switch {
	case f.Limit == 0:
		f.Limit = 100
	case f.Limit < 0 || f.Limit > HistoryLimit:
		fields.Add("limit", fmt.Sprintf("must be 1 to %d", HistoryLimit))
	}
	if q.Cursor != "" {
		if f.After, err = parseHistoryCursor(q.Cursor); err != nil {
			fields.Add("cursor", "not a cursor this list gave; start again without it")
		}
	}
	if err := fields.Err(); err != nil {
		return nil, "", err
	}
	var out []replenish.HistoryEntry
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		_, _, sl, err := loadSlot(ctx, tx, customerID, endpointID, slotID)
		if err != nil {
			return err
		}
		f.Limit++ // one more tells whether a next page exists
		if out, err = tx.SlotHistory(ctx, sl, f); err != nil {
			return err
		}
		for i := range out {
			showIn(&out[i], sl)
		}
		return nil
	})
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(out) == f.Limit {
		out = out[:len(out)-1]
		l := out[len(out)-1]
		next = base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d|%s|%d", l.At.UnixMicro(), l.Type, l.Seq))
	}
	if out == nil {
		out = []replenish.HistoryEntry{}
	}
	return out, next, nil
}

// showIn converts an entry's amounts from the base unit to the unit the
// customer reads the slot in.
func showIn(e *replenish.HistoryEntry, sl replenish.EndpointSlot) {
	t, unit := sl.Measurement.Type, sl.Measurement.Unit
	label := string(unit)
	if e.Type == replenish.HistoryHousehold {
		t = householdType(sl)
		unit, _ = householdUnit(sl)
		label = household(sl).Unit
	} else if unit == "" {
		label = string(measure.BaseUnit(t))
	}
	if e.Amount == nil && e.Delta == nil {
		return
	}
	e.Unit = label
	for _, v := range []*float64{e.Amount, e.Delta} {
		if v == nil {
			continue
		}
		if x, err := measure.FromBase(t, *v, unit); err == nil {
			*v = math.Round(x*1000) / 1000
		}
	}
}

// parseWhen reads a time as RFC 3339, or a date (midnight UTC); "" is none.
func parseWhen(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q is not a time: give RFC 3339 (2026-11-22T10:00:00Z) or a date (2026-11-22)", s)
}

func parseHistoryCursor(s string) (*storage.HistoryCursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	parts := strings.Split(string(raw), "|")
	if len(parts) != 3 {
		return nil, fmt.Errorf("bad cursor")
	}
	at, err1 := strconv.ParseInt(parts[0], 10, 64)
	seq, err2 := strconv.ParseInt(parts[2], 10, 64)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("bad cursor")
	}
	return &storage.HistoryCursor{At: time.UnixMicro(at).UTC(), Type: parts[1], Seq: seq}, nil
}
