package customers

import (
	"context"
	"math"

	"replenish"
	"replenish/engine"
	"replenish/measure"
	"replenish/storage"
)

// Household is what a customer says about a slot's spare supply at home:
// how much there is, in the unit the slot's sensor declared, and why it
// changed ("bought a pack", "counted them").
type Household struct {
	Quantity *float64 `json:"quantity"`
	Reason   string   `json:"reason"`
}

// MaxReason is the longest reason kept with a household inventory change.
const MaxReason = 200

// SetHousehold sets the household inventory of a USAGE slot: the amount
// its InventoryConsumed reports lower. A rise re-arms the slot like a
// refill. Other sensors report what is left in the device itself.
func (s *Service) SetHousehold(ctx context.Context, customerID, endpointID, slotID string, in Household) (Endpoint, error) {
	var out Endpoint
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		c, _, m, sl, err := loadSlot(ctx, tx, customerID, endpointID, slotID)
		if err != nil {
			return err
		}
		f := replenish.Fields{}
		var base float64
		switch {
		case in.Quantity == nil:
			f.Add("quantity", "required")
		case *in.Quantity < 0 || math.IsInf(*in.Quantity, 0):
			f.Add("quantity", "must be 0 or more")
		case sl.Measurement.Type == measure.Count && *in.Quantity != math.Trunc(*in.Quantity):
			f.Add("quantity", "must be a whole number for a slot that counts units")
		default:
			if base, err = measure.ToBase(sl.Measurement.Type, *in.Quantity, sl.Measurement.Unit); err != nil {
				f.Add("quantity", err.Error())
			}
		}
		switch {
		case in.Reason == "":
			f.Add("reason", "required: say why the inventory changed")
		case len(in.Reason) > MaxReason:
			f.Add("reason", "at most 200 bytes")
		}
		if err := f.Err(); err != nil {
			return err
		}
		if sl.SensorType != replenish.SensorUsage {
			return replenish.Errorf(replenish.EConflict,
				"slot %s has a %s sensor, which reports what is left in the device; household inventory is kept for USAGE slots",
				slotID, sl.SensorType)
		}
		if err := tx.SetSlotState(ctx, sl.ID, engine.SetHousehold(sl, base)); err != nil {
			return err
		}
		if err := tx.InsertHouseholdChange(ctx, sl.ID, base, in.Reason, s.now()); err != nil {
			return err
		}
		e, err := tx.Endpoint(ctx, customerID, endpointID)
		if err != nil {
			return err
		}
		out = s.view(e, m, c.Marketplace)
		return nil
	})
	return out, err
}
