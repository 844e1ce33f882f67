package customers

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"replenish"
	"replenish/engine"
	"replenish/measure"
	"replenish/storage"
)

// Household is what a customer says about a slot's spare supply at home,
// in the unit the slot shows it in (householdInventory.unit): either how
// much there is (Quantity) or how much came or went (Delta, negative when
// removed), and why ("bought a pack", "counted them").
type Household struct {
	Quantity *float64 `json:"quantity"`
	Delta    *float64 `json:"delta"`
	Reason   string   `json:"reason"`
}

// MaxReason is the longest reason kept with a household inventory change.
const MaxReason = 200

// SetHousehold sets or changes a slot's household inventory. For a USAGE
// slot it is the amount the device's usage lowers, and a rise re-arms the
// slot like a refill; for LEVEL and LEVEL_USAGE slots it is the spares
// that a refill of the device draws from. Removing more than there is
// leaves none.
func (s *Service) SetHousehold(ctx context.Context, customerID, endpointID, slotID string, in Household) (Endpoint, error) {
	return s.changeSlot(ctx, customerID, endpointID, slotID, func(tx storage.Tx, _ replenish.Customer, _ replenish.Model, sl replenish.EndpointSlot) error {
		f := replenish.Fields{}
		field, value := "quantity", in.Quantity
		switch {
		case in.Quantity != nil && in.Delta != nil:
			f.Add("delta", "give quantity (set) or delta (add or remove), not both")
		case in.Quantity == nil && in.Delta == nil:
			f.Add("quantity", "required: quantity sets the inventory, or give delta to add (negative: remove)")
		case in.Delta != nil:
			field, value = "delta", in.Delta
		}
		var base float64
		var err error
		if value != nil {
			unit, whole := householdUnit(sl)
			switch {
			case math.IsInf(*value, 0) || math.IsNaN(*value):
				f.Add(field, "must be a number")
			case field == "quantity" && *value < 0:
				f.Add(field, "must be 0 or more")
			case whole && *value != math.Trunc(*value):
				f.Add(field, "must be a whole number for a slot that counts units or parts")
			default:
				if base, err = measure.ToBase(householdType(sl), *value, unit); err != nil {
					f.Add(field, err.Error())
				}
			}
		}
		in.Reason = strings.TrimSpace(in.Reason)
		switch {
		case in.Reason == "":
			f.Add("reason", "required: say why the inventory changed")
		case len(in.Reason) > MaxReason:
			f.Add("reason", "at most 200 bytes")
		}
		if err := f.Err(); err != nil {
			return err
		}
		was := engine.Household(sl)
		st := engine.SetHousehold(sl, base)
		if field == "delta" {
			st, _ = engine.AddHousehold(sl, base)
		}
		if err := tx.SetSlotState(ctx, sl.ID, st); err != nil {
			return err
		}
		sl.State = st
		now := engine.Household(sl)
		return tx.InsertHouseholdChange(ctx, storage.HouseholdChange{Slot: sl.ID, Quantity: now, Delta: now - was,
			Source: storage.HouseholdCustomer, Reason: in.Reason, At: s.now()})
	})
}

// householdType is the measurement a slot's household inventory is
// counted in: whole parts (a Count) for a Percentage slot.
func householdType(sl replenish.EndpointSlot) measure.Type {
	if sl.Measurement.Type == measure.Percentage {
		return measure.Count
	}
	return sl.Measurement.Type
}

// householdUnit is the unit a slot's household inventory is shown and set
// in: the unit the sensor declared, none for counts and parts; whole
// reports whether it counts whole units.
func householdUnit(sl replenish.EndpointSlot) (unit measure.Unit, whole bool) {
	if t := householdType(sl); t == measure.Count {
		return "", true
	}
	return sl.Measurement.Unit, false
}

// Installed is the date the part in a device was installed: RFC 3339, or
// a date (midnight UTC).
type Installed struct {
	InstalledAt string `json:"installedAt"`
}

// SetInstalled records when the part in a slot was installed. For a
// LEVEL_USAGE slot it starts a new part (100 % of its life left), which
// draws a spare from the household inventory when it holds one; for other
// slots it records the date. A date in the future, or older than the
// slot's last replacement, is refused.
func (s *Service) SetInstalled(ctx context.Context, customerID, endpointID, slotID string, in Installed) (Endpoint, error) {
	return s.changeSlot(ctx, customerID, endpointID, slotID, func(tx storage.Tx, _ replenish.Customer, _ replenish.Model, sl replenish.EndpointSlot) error {
		now := s.now()
		at, err := parseWhen(in.InstalledAt)
		switch {
		case err != nil:
			return replenish.FieldError("installedAt", err.Error())
		case at.IsZero():
			return replenish.FieldError("installedAt", "required: the date and time the part was installed (RFC 3339)")
		case at.After(now.Add(time.Minute)):
			return replenish.FieldError("installedAt", "is in the future")
		case at.Before(replenish.Earliest):
			return replenish.FieldError("installedAt", "is before 2000-01-01: give the date the part was installed")
		case !sl.State.ReplacedAt.IsZero() && at.Before(sl.State.ReplacedAt):
			return replenish.FieldError("installedAt", "is before the part installed on "+sl.State.ReplacedAt.Format(time.RFC3339))
		}
		if sl.SensorType != replenish.SensorLevelUsage {
			sl.State.ReplacedAt = at
			if err := tx.SetSlotState(ctx, sl.ID, sl.State); err != nil {
				return err
			}
		} else {
			st, decisions, moved := engine.Replace(sl, 100, at, now)
			if moved {
				if err := tx.InsertReading(ctx, storage.Reading{Slot: sl.ID, Kind: storage.ReadingReplaced, SampleAt: at,
					Amount: st.Amount, ReceivedAt: now}); err != nil {
					return err
				}
				if err := tx.SetSlotState(ctx, sl.ID, st); err != nil {
					return err
				}
				sl.State = st
			}
			for _, d := range decisions {
				if d.Kind != engine.UsedSpare {
					continue // a new part is never low
				}
				if err := tx.InsertHouseholdChange(ctx, storage.HouseholdChange{Slot: sl.ID, Quantity: engine.Household(sl),
					Delta: -d.Amount, Source: storage.HouseholdRefill, At: now,
					Reason: "you installed a new part: a spare from home went in"}); err != nil {
					return err
				}
			}
		}
		return tx.InsertSlotChange(ctx, storage.SlotChange{Slot: sl.ID, Kind: storage.ChangeInstalled, At: now,
			Actor: replenish.ActorCustomer, Message: "installed a part on " + at.Format("2006-01-02 15:04 MST")})
	})
}

// MaxName is the longest friendly name of a device.
const MaxName = 128

// Rename sets the name the customer calls a device by; an empty name
// gives back the vendor's.
func (s *Service) Rename(ctx context.Context, customerID, endpointID string, name *string) (Endpoint, error) {
	var out Endpoint
	if name == nil {
		return out, replenish.FieldError("friendlyName", "required: the device's new name (empty: the vendor's name)")
	}
	n := strings.TrimSpace(*name)
	if len(n) > MaxName {
		return out, replenish.FieldError("friendlyName", fmt.Sprintf("at most %d bytes", MaxName))
	}
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		c, err := tx.Customer(ctx, customerID)
		if err != nil {
			return err
		}
		if err := tx.SetCustomerName(ctx, customerID, endpointID, n, s.now()); err != nil {
			return err
		}
		e, err := tx.Endpoint(ctx, customerID, endpointID)
		if err != nil {
			return err
		}
		m, err := tx.Model(ctx, e.VendorCode, e.ModelID)
		if err != nil {
			return err
		}
		out = s.view(e, m, c.Marketplace)
		return nil
	})
	return out, err
}
