package console

import (
	"context"
	"fmt"
	"math"
	"strings"

	"replenish"
	"replenish/measure"
	"replenish/storage"
)

// RequestInput is a vendor's description of a slot's sensor.
type RequestInput struct {
	SensorType  string                `json:"sensorType"`
	Measurement replenish.Measurement `json:"measurement"`
	Description string                `json:"description"`
	Submit      bool                  `json:"submit"`
}

// PutRequest saves a slot's replenishment-ID request as a draft, or
// submits it for review. An assigned request cannot change; a rejected
// one is answered by putting it again.
func (s *Service) PutRequest(ctx context.Context, by replenish.Principal, vendorCode, modelID, slotID string, in RequestInput) (replenish.Request, error) {
	f := replenish.Fields{}
	switch in.SensorType {
	case replenish.SensorLevel, replenish.SensorUsage:
	case replenish.SensorLevelUsage:
		if in.Measurement.Type != measure.Percentage {
			f.Add("measurement.type", "a LEVEL_USAGE sensor measures Percentage")
		}
	default:
		f.Add("sensorType", "must be LEVEL, USAGE or LEVEL_USAGE")
	}
	if _, err := measure.ParseType(string(in.Measurement.Type)); err != nil {
		f.Add("measurement.type", "must be Percentage, Count, Volume or Weight (describe any other in description)")
	} else if _, err := measure.ToBase(in.Measurement.Type, 0, in.Measurement.Unit); err != nil {
		f.Add("measurement.unit", err.Error())
	}
	textLen(f, "description", in.Description, 0, 2000)
	if err := f.Err(); err != nil {
		return replenish.Request{}, err
	}
	var out replenish.Request
	action := "put replenishment request of slot " + slotID
	_, err := s.change(ctx, by, vendorCode, modelID, action, wholeModel, func(tx storage.Tx, m replenish.Model) error {
		sl, err := slotOf(m, slotID)
		if err != nil {
			return err
		}
		now := s.now()
		r := replenish.Request{RequestID: replenish.NewID("rq-", 16), VendorCode: vendorCode, ModelID: modelID, SlotID: slotID}
		if sl.Request != nil {
			if sl.Request.Status == replenish.RequestAssigned {
				return replenish.Errorf(replenish.EConflict, "slot %s already has replenishment ID %s; its sensor cannot change",
					slotID, sl.Request.ReplenishmentID)
			}
			r = *sl.Request
		}
		r.SensorType, r.Measurement, r.Description = in.SensorType, in.Measurement, in.Description
		r.Status, r.RejectReason, r.SubmittedAt, r.UpdatedAt = replenish.RequestDraft, "", nil, now
		if in.Submit {
			if sl.Category == "" {
				return replenish.FieldError("category", "set the slot's category before submitting its request")
			}
			r.Status, r.SubmittedAt = replenish.RequestSubmitted, &now
		}
		out = r
		return tx.PutRequest(ctx, r)
	})
	return out, err
}

// SubmitRequests submits the requests of every slot of a model at once:
// drafts and rejected ones. Submitted and assigned ones stay as they are.
// When a slot has no request or no category, nothing is submitted and the
// answer names every such slot.
func (s *Service) SubmitRequests(ctx context.Context, by replenish.Principal, vendorCode, modelID string) ([]replenish.Request, error) {
	var out []replenish.Request
	_, err := s.change(ctx, by, vendorCode, modelID, "submit replenishment requests", wholeModel, func(tx storage.Tx, m replenish.Model) error {
		f := replenish.Fields{}
		for _, sl := range m.Slots {
			if sl.Category == "" {
				f.Add("slots."+sl.SlotID+".category", "required: set the slot's category")
			}
			if sl.Request == nil {
				f.Add("slots."+sl.SlotID+".replenishmentRequest", "no request: describe the slot's sensor first")
			}
		}
		if len(f) > 0 {
			return notReady("the replenishment requests of model "+modelID+" cannot be submitted", f)
		}
		now := s.now()
		for _, sl := range m.Slots {
			r := *sl.Request
			if r.Status == replenish.RequestDraft || r.Status == replenish.RequestRejected {
				r.Status, r.RejectReason, r.SubmittedAt, r.UpdatedAt = replenish.RequestSubmitted, "", &now, now
				if err := tx.PutRequest(ctx, r); err != nil {
					return err
				}
			}
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// notReady is the error of a step whose prerequisites are missing, naming
// every missing item.
func notReady(what string, f replenish.Fields) error {
	e := f.Err().(*replenish.Error)
	e.Code, e.Message = replenish.ENotReady, what+": "+e.Message
	return e
}

// Requests lists replenishment-ID requests, all or those with status.
func (s *Service) Requests(ctx context.Context, status string) (rs []replenish.Request, err error) {
	switch status {
	case "", replenish.RequestDraft, replenish.RequestSubmitted, replenish.RequestAssigned, replenish.RequestRejected:
	default:
		return nil, replenish.FieldError("status", "must be DRAFT, SUBMITTED, ASSIGNED or REJECTED")
	}
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		rs, err = tx.Requests(ctx, status)
		return err
	})
	return rs, err
}

// Assignment is the operator's answer to a request: the low threshold
// (in the request's measurement), the reorder policy and the FORECAST
// policy's service level, in per cent. Changing an assignment, nil and
// "" keep what was set.
type Assignment struct {
	Threshold    *float64 `json:"threshold"`
	Policy       string   `json:"policy"`
	ServiceLevel *float64 `json:"serviceLevel"`
}

// Assign gives a submitted request its replenishment ID, low threshold
// and policy (FORECAST when not given) with its service level
// (replenish.DefaultServiceLevel when not given).
func (s *Service) Assign(ctx context.Context, by replenish.Principal, requestID string, a Assignment) (replenish.Request, error) {
	return s.decide(ctx, by, requestID, "assign", func(r *replenish.Request) error {
		level := replenish.DefaultServiceLevel
		r.Policy, r.ServiceLevel = replenish.PolicyForecast, &level
		if err := a.apply(r, true); err != nil {
			return err
		}
		r.Status = replenish.RequestAssigned
		r.ReplenishmentID = replenish.NewID("rp-", 26)
		return nil
	})
}

// ChangeAssignment changes the threshold, policy or service level of an
// assigned replenishment ID; every slot of every device with it follows
// from its next reading.
func (s *Service) ChangeAssignment(ctx context.Context, by replenish.Principal, requestID string, a Assignment) (replenish.Request, error) {
	if by.Role != replenish.RoleOperator {
		return replenish.Request{}, replenish.Errorf(replenish.EForbidden, "only the operator changes a replenishment ID's policy")
	}
	var r replenish.Request
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		var err error
		if r, err = tx.Request(ctx, requestID); err != nil {
			return err
		}
		if r.Status != replenish.RequestAssigned {
			return replenish.Errorf(replenish.EConflict, "request %s is %s: only an ASSIGNED request has a policy to change", requestID, r.Status)
		}
		before := r
		if err := a.apply(&r, false); err != nil {
			return err
		}
		r.UpdatedAt = s.now()
		if err := tx.PutRequest(ctx, r); err != nil {
			return err
		}
		return s.audit(ctx, tx, by, r.VendorCode, r.ModelID, "change the policy of slot "+r.SlotID, before, r)
	})
	return r, err
}

// apply checks a and sets what it gives on r, naming every field at fault;
// assigning, the threshold is required. A service level may be given as a
// fraction: 0.95 is 95 %.
func (a Assignment) apply(r *replenish.Request, assigning bool) error {
	f := replenish.Fields{}
	if t := a.Threshold; t != nil || assigning {
		switch {
		case t == nil:
			f.Add("threshold", "required: the low threshold in the slot's measurement")
		case *t < 0:
			f.Add("threshold", "must be 0 or more")
		case r.Measurement.Type == measure.Percentage && *t > 100:
			f.Add("threshold", "a percentage is at most 100")
		}
	}
	policy := strings.ToUpper(strings.TrimSpace(a.Policy))
	switch policy {
	case "", replenish.PolicyThreshold, replenish.PolicyForecast:
	default:
		f.Add("policy", "must be THRESHOLD or FORECAST")
	}
	var level *float64
	if l := a.ServiceLevel; l != nil {
		v := *l
		if v > 0 && v < 1 {
			v *= 100
		}
		if v < MinServiceLevel || v > MaxServiceLevel || math.IsNaN(v) {
			f.Add("serviceLevel", fmt.Sprintf("must be between %g and %g (per cent), such as 95", MinServiceLevel, MaxServiceLevel))
		}
		level = &v
	}
	if err := f.Err(); err != nil {
		return err
	}
	if a.Threshold != nil {
		t := *a.Threshold
		r.Threshold = &t
	}
	if policy != "" {
		r.Policy = policy
	}
	if level != nil {
		r.ServiceLevel = level
	}
	return nil
}

// The service levels the operator may set, in per cent.
const (
	MinServiceLevel = 50.0
	MaxServiceLevel = 99.9
)

// Reject refuses a submitted request with a reason the vendor sees.
func (s *Service) Reject(ctx context.Context, by replenish.Principal, requestID, reason string) (replenish.Request, error) {
	return s.decide(ctx, by, requestID, "reject", func(r *replenish.Request) error {
		f := replenish.Fields{}
		textLen(f, "reason", reason, 1, 1000)
		if err := f.Err(); err != nil {
			return err
		}
		r.Status, r.RejectReason = replenish.RequestRejected, reason
		return nil
	})
}

// decide applies the operator's decision on a submitted request, recorded
// in the audit log like every operator change of a model.
func (s *Service) decide(ctx context.Context, by replenish.Principal, requestID, verb string, fn func(r *replenish.Request) error) (replenish.Request, error) {
	if by.Role != replenish.RoleOperator {
		return replenish.Request{}, replenish.Errorf(replenish.EForbidden, "only the operator decides replenishment requests")
	}
	var r replenish.Request
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		var err error
		if r, err = tx.Request(ctx, requestID); err != nil {
			return err
		}
		if r.Status != replenish.RequestSubmitted {
			return replenish.Errorf(replenish.EConflict, "request %s is %s: only a SUBMITTED request can be decided", requestID, r.Status)
		}
		before := r
		if err := fn(&r); err != nil {
			return err
		}
		now := s.now()
		r.DecidedAt, r.UpdatedAt = &now, now
		if err := tx.PutRequest(ctx, r); err != nil {
			return err
		}
		return s.audit(ctx, tx, by, r.VendorCode, r.ModelID, verb+" replenishment request of slot "+r.SlotID, before, r)
	})
	return r, err
}
