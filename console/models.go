package console

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"replenish"
	"replenish/catalog"
	"replenish/measure"
	"replenish/storage"
)

// DefaultSlotID is the slot every new model starts with.
const DefaultSlotID = "SLOT01"

// MaxTestAccounts is how many test accounts a model may have per marketplace.
const MaxTestAccounts = 10

// NewModel is what a vendor sends to create a device model.
type NewModel struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	ModelID    string `json:"modelId"`
	DeviceType string `json:"deviceType"`
}

// CreateModel creates a model with its default slot; the model ID is
// generated when none is given.
func (s *Service) CreateModel(ctx context.Context, vendorCode string, in NewModel) (replenish.Model, error) {
	f := replenish.Fields{}
	switch in.Kind {
	case replenish.KindSkill:
		if in.DeviceType != "" {
			f.Add("deviceType", "only for CONNECT_KIT models; leave it out for SKILL")
		}
	case replenish.KindConnectKit:
		if in.DeviceType == "" {
			f.Add("deviceType", "required for CONNECT_KIT models (from the ACK configuration file)")
		} else if !identPattern.MatchString(in.DeviceType) {
			f.Add("deviceType", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
		}
	default:
		f.Add("kind", "must be SKILL or CONNECT_KIT")
	}
	textLen(f, "name", in.Name, 1, 60)
	if in.ModelID == "" {
		in.ModelID = replenish.NewID("model-", 12)
	} else if !identPattern.MatchString(in.ModelID) {
		f.Add("modelId", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -, or left out to generate one")
	}
	if err := f.Err(); err != nil {
		return replenish.Model{}, err
	}
	var m replenish.Model
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		err := tx.InsertModel(ctx, replenish.Model{VendorCode: vendorCode, ModelID: in.ModelID, Kind: in.Kind,
			Name: in.Name, DeviceType: in.DeviceType, Certification: replenish.CertNone, CreatedAt: s.now()})
		if replenish.ErrorCode(err) == replenish.EConflict {
			return &replenish.Error{Code: replenish.EConflict, Message: "modelId: " + in.ModelID + " is taken by another model of yours",
				Fields: map[string]string{"modelId": "is taken"}}
		}
		if err != nil {
			return err
		}
		if err := tx.InsertSlot(ctx, vendorCode, in.ModelID, replenish.Slot{SlotID: DefaultSlotID}); err != nil {
			return err
		}
		m, err = tx.Model(ctx, vendorCode, in.ModelID)
		return err
	})
	return m, err
}

// Model returns one of the vendor's models.
func (s *Service) Model(ctx context.Context, vendorCode, modelID string) (m replenish.Model, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		m, err = tx.Model(ctx, vendorCode, modelID)
		return err
	})
	return m, err
}

// Models lists the vendor's models.
func (s *Service) Models(ctx context.Context, vendorCode string) (ms []replenish.Model, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		ms, err = tx.Models(ctx, vendorCode)
		return err
	})
	return ms, err
}

// editModel runs fn in a write transaction on a model that its vendor may
// still change: one not submitted for certification.
func (s *Service) editModel(ctx context.Context, vendorCode, modelID string, fn func(tx storage.Tx, m replenish.Model) error) (replenish.Model, error) {
	var m replenish.Model
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		var err error
		if m, err = tx.Model(ctx, vendorCode, modelID); err != nil {
			return err
		}
		if m.Certification == replenish.CertSubmitted || m.Certification == replenish.CertCertified {
			return replenish.Errorf(replenish.ELocked, "model %s was submitted for certification: only adding marketplaces is allowed now", modelID)
		}
		if err := fn(tx, m); err != nil {
			return err
		}
		m, err = tx.Model(ctx, vendorCode, modelID)
		return err
	})
	return m, err
}

// AddMarketplace adds a marketplace to a model; every slot starts with the
// marketplace's placeholder product. Adding one already there changes nothing.
func (s *Service) AddMarketplace(ctx context.Context, vendorCode, modelID, mp string) (replenish.Model, error) {
	var m replenish.Model
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		var err error
		if m, err = tx.Model(ctx, vendorCode, modelID); err != nil {
			return err
		}
		if slices.Contains(m.Marketplaces, mp) {
			return nil
		}
		if _, err := tx.Marketplace(ctx, mp); err != nil {
			return replenish.FieldError("marketplace", "unknown marketplace "+mp+"; GET /api/v1/marketplaces lists them")
		}
		if err := tx.AddModelMarketplace(ctx, vendorCode, modelID, mp); err != nil {
			return err
		}
		for _, sl := range m.Slots {
			if err := tx.SetSlotProducts(ctx, vendorCode, modelID, sl.SlotID, mp, []string{catalog.PlaceholderProductID(mp)}); err != nil {
				return err
			}
		}
		m, err = tx.Model(ctx, vendorCode, modelID)
		return err
	})
	return m, err
}

// AddSlot adds a slot with a category; in every marketplace of the model it
// starts with the placeholder product.
func (s *Service) AddSlot(ctx context.Context, vendorCode, modelID, slotID, category string) (replenish.Model, error) {
	f := replenish.Fields{}
	if !identPattern.MatchString(slotID) {
		f.Add("slotId", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
	}
	checkCategory(f, category)
	if err := f.Err(); err != nil {
		return replenish.Model{}, err
	}
	return s.editModel(ctx, vendorCode, modelID, func(tx storage.Tx, m replenish.Model) error {
		err := tx.InsertSlot(ctx, vendorCode, modelID, replenish.Slot{SlotID: slotID, Category: category})
		if replenish.ErrorCode(err) == replenish.EConflict {
			return &replenish.Error{Code: replenish.EConflict, Message: "slotId: the model already has slot " + slotID,
				Fields: map[string]string{"slotId": "is taken"}}
		}
		if err != nil {
			return err
		}
		for _, mp := range m.Marketplaces {
			if err := tx.SetSlotProducts(ctx, vendorCode, modelID, slotID, mp, []string{catalog.PlaceholderProductID(mp)}); err != nil {
				return err
			}
		}
		return nil
	})
}

// SetSlotCategory sets the category of a slot, such as the default slot
// that a new model starts with.
func (s *Service) SetSlotCategory(ctx context.Context, vendorCode, modelID, slotID, category string) (replenish.Model, error) {
	f := replenish.Fields{}
	checkCategory(f, category)
	if err := f.Err(); err != nil {
		return replenish.Model{}, err
	}
	return s.editModel(ctx, vendorCode, modelID, func(tx storage.Tx, m replenish.Model) error {
		sl, err := slotOf(m, slotID)
		if err != nil {
			return err
		}
		if sl.Request != nil && sl.Request.Status == replenish.RequestAssigned && sl.Category != category {
			return replenish.Errorf(replenish.EConflict, "slot %s has a replenishment ID: its category cannot change", slotID)
		}
		return tx.SetSlotCategory(ctx, vendorCode, modelID, slotID, category)
	})
}

func checkCategory(f replenish.Fields, category string) {
	if !catalog.IsCategory(category) {
		f.Add("category", "must be one of "+strings.Join(catalog.Categories, ", "))
	}
}

func slotOf(m replenish.Model, slotID string) (replenish.Slot, error) {
	for _, sl := range m.Slots {
		if sl.SlotID == slotID {
			return sl, nil
		}
	}
	return replenish.Slot{}, replenish.Errorf(replenish.ENotFound, "model %s has no slot %s", m.ModelID, slotID)
}

// SetSlotProducts sets a slot's product list in one marketplace: products
// of the catalog offered there, of the slot's category (or the
// marketplace's placeholder).
func (s *Service) SetSlotProducts(ctx context.Context, vendorCode, modelID, slotID, mp string, productIDs []string) (replenish.Model, error) {
	return s.editModel(ctx, vendorCode, modelID, func(tx storage.Tx, m replenish.Model) error {
		sl, err := slotOf(m, slotID)
		if err != nil {
			return err
		}
		if !slices.Contains(m.Marketplaces, mp) {
			return replenish.Errorf(replenish.ENotFound, "model %s is not sold in %s: add the marketplace first", modelID, mp)
		}
		f := replenish.Fields{}
		if len(productIDs) == 0 {
			f.Add("productIds", "at least one product")
		}
		if sl.Category == "" {
			f.Add("category", "set the slot's category before its products")
		}
		for i, id := range productIDs {
			field := fmt.Sprintf("productIds[%d]", i)
			if slices.Index(productIDs, id) != i {
				f.Add(field, id+" is listed twice")
				continue
			}
			if id == catalog.PlaceholderProductID(mp) {
				continue
			}
			p, err := tx.Product(ctx, id)
			if err != nil {
				f.Add(field, "no product "+id+" in the catalog")
				continue
			}
			if _, ok := p.Offers[mp]; !ok {
				f.Add(field, id+" is not sold in "+mp)
			} else if p.Category != sl.Category {
				f.Add(field, id+" is "+p.Category+", the slot is "+sl.Category)
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		return tx.SetSlotProducts(ctx, vendorCode, modelID, slotID, mp, productIDs)
	})
}

// RequestInput is a vendor's description of a slot's sensor.
type RequestInput struct {
	SensorType  string                `json:"sensorType"`
	Measurement replenish.Measurement `json:"measurement"`
	Description string                `json:"description"`
	Submit      bool                  `json:"submit"`
}

// PutRequest saves a slot's replenishment-ID request as a draft, or
// submits it for review. An assigned request cannot change.
func (s *Service) PutRequest(ctx context.Context, vendorCode, modelID, slotID string, in RequestInput) (replenish.Request, error) {
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
	_, err := s.editModel(ctx, vendorCode, modelID, func(tx storage.Tx, m replenish.Model) error {
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

// Assignment is the operator's answer to a request.
type Assignment struct {
	Threshold *float64 `json:"threshold"`
	Policy    string   `json:"policy"`
}

// Assign gives a submitted request its replenishment ID, low threshold
// (in the request's measurement) and policy (FORECAST when not given).
func (s *Service) Assign(ctx context.Context, requestID string, a Assignment) (replenish.Request, error) {
	return s.decide(ctx, requestID, func(r *replenish.Request) error {
		f := replenish.Fields{}
		switch {
		case a.Threshold == nil:
			f.Add("threshold", "required: the low threshold in the slot's measurement")
		case *a.Threshold < 0:
			f.Add("threshold", "must be 0 or more")
		case r.Measurement.Type == measure.Percentage && *a.Threshold > 100:
			f.Add("threshold", "a percentage is at most 100")
		}
		switch a.Policy {
		case "":
			a.Policy = replenish.PolicyForecast
		case replenish.PolicyThreshold, replenish.PolicyForecast:
		default:
			f.Add("policy", "must be THRESHOLD or FORECAST")
		}
		if err := f.Err(); err != nil {
			return err
		}
		r.Status, r.Threshold, r.Policy = replenish.RequestAssigned, a.Threshold, a.Policy
		r.ReplenishmentID = replenish.NewID("rp-", 26)
		return nil
	})
}

// Reject refuses a submitted request with a reason the vendor sees.
func (s *Service) Reject(ctx context.Context, requestID, reason string) (replenish.Request, error) {
	return s.decide(ctx, requestID, func(r *replenish.Request) error {
		f := replenish.Fields{}
		textLen(f, "reason", reason, 1, 1000)
		if err := f.Err(); err != nil {
			return err
		}
		r.Status, r.RejectReason = replenish.RequestRejected, reason
		return nil
	})
}

func (s *Service) decide(ctx context.Context, requestID string, fn func(r *replenish.Request) error) (replenish.Request, error) {
	var r replenish.Request
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		var err error
		if r, err = tx.Request(ctx, requestID); err != nil {
			return err
		}
		if r.Status != replenish.RequestSubmitted {
			return replenish.Errorf(replenish.EConflict, "request %s is %s: only a SUBMITTED request can be decided", requestID, r.Status)
		}
		if err := fn(&r); err != nil {
			return err
		}
		now := s.now()
		r.DecidedAt, r.UpdatedAt = &now, now
		return tx.PutRequest(ctx, r)
	})
	return r, err
}

// PutTestAccount makes a customer a test account of a model in a marketplace.
func (s *Service) PutTestAccount(ctx context.Context, vendorCode, modelID, mp, customerID string) error {
	return s.store.Write(ctx, func(tx storage.Tx) error {
		m, err := tx.Model(ctx, vendorCode, modelID)
		if err != nil {
			return err
		}
		if !slices.Contains(m.Marketplaces, mp) {
			return replenish.Errorf(replenish.ENotFound, "model %s is not sold in %s: add the marketplace first", modelID, mp)
		}
		if _, err := tx.Customer(ctx, customerID); err != nil {
			return err
		}
		ids, err := tx.TestAccounts(ctx, vendorCode, modelID, mp)
		if err != nil {
			return err
		}
		if slices.Contains(ids, customerID) {
			return nil
		}
		if len(ids) >= MaxTestAccounts {
			return replenish.Errorf(replenish.EConflict, "model %s already has %d test accounts in %s, the most allowed; remove one first",
				modelID, MaxTestAccounts, mp)
		}
		return tx.PutTestAccount(ctx, vendorCode, modelID, mp, customerID)
	})
}

// DeleteTestAccount removes a test account.
func (s *Service) DeleteTestAccount(ctx context.Context, vendorCode, modelID, mp, customerID string) error {
	return s.store.Write(ctx, func(tx storage.Tx) error {
		return tx.DeleteTestAccount(ctx, vendorCode, modelID, mp, customerID)
	})
}
