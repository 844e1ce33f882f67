package console

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"replenish"
	"replenish/catalog"
	"replenish/storage"
)

// DefaultSlotID is the slot every new model starts with.
const DefaultSlotID = "SLOT01"

// NewModel is what a vendor sends to create a device model.
type NewModel struct {
	Kind       string `json:"kind"`
	Name       string `json:"name"`
	ModelID    string `json:"modelId"`
	DeviceType string `json:"deviceType"`
}

// CreateModel creates a model with its default slot; the model ID is
// generated when none is given.
func (s *Service) CreateModel(ctx context.Context, by replenish.Principal, vendorCode string, in NewModel) (replenish.Model, error) {
	f := replenish.Fields{}
	switch in.Kind {
	case replenish.KindSkill, replenish.KindConnectKit:
		checkDeviceType(f, in.Kind, in.DeviceType)
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
	if err := may(by, vendorCode); err != nil {
		return replenish.Model{}, err
	}
	var m replenish.Model
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		if _, err := tx.Vendor(ctx, vendorCode); err != nil {
			return err
		}
		err := tx.InsertModel(ctx, replenish.Model{VendorCode: vendorCode, ModelID: in.ModelID, Kind: in.Kind,
			Name: in.Name, DeviceType: in.DeviceType, Certification: replenish.CertNone, CreatedAt: s.now()})
		if replenish.ErrorCode(err) == replenish.EConflict {
			return &replenish.Error{Code: replenish.EConflict, Message: "modelId: " + in.ModelID + " is taken by another model of this vendor",
				Fields: map[string]string{"modelId": "is taken"}}
		}
		if err != nil {
			return err
		}
		if err := tx.InsertSlot(ctx, vendorCode, in.ModelID, replenish.Slot{SlotID: DefaultSlotID}); err != nil {
			return err
		}
		if m, err = tx.Model(ctx, vendorCode, in.ModelID); err != nil {
			return err
		}
		return s.audit(ctx, tx, by, vendorCode, in.ModelID, "create model", nil, &m)
	})
	return m, err
}

func checkDeviceType(f replenish.Fields, kind, deviceType string) {
	switch {
	case kind == replenish.KindSkill && deviceType != "":
		f.Add("deviceType", "only for CONNECT_KIT models; leave it out for SKILL")
	case kind == replenish.KindConnectKit && deviceType == "":
		f.Add("deviceType", "required for CONNECT_KIT models (from the ACK configuration file)")
	case kind == replenish.KindConnectKit && !identPattern.MatchString(deviceType):
		f.Add("deviceType", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
	}
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

// ModelPatch is a change of a model's details; absent fields stay.
type ModelPatch struct {
	Name       *string `json:"name"`
	DeviceType *string `json:"deviceType"`
}

// UpdateModel changes a model's name or device type.
func (s *Service) UpdateModel(ctx context.Context, by replenish.Principal, vendorCode, modelID string, in ModelPatch) (replenish.Model, error) {
	return s.change(ctx, by, vendorCode, modelID, "change model details", wholeModel, func(tx storage.Tx, m replenish.Model) error {
		f := replenish.Fields{}
		if in.Name != nil {
			textLen(f, "name", *in.Name, 1, 60)
			m.Name = *in.Name
		}
		if in.DeviceType != nil {
			checkDeviceType(f, m.Kind, *in.DeviceType)
			m.DeviceType = *in.DeviceType
		}
		if err := f.Err(); err != nil {
			return err
		}
		return tx.UpdateModel(ctx, m)
	})
}

// DeleteModel deletes a model; the replenishment IDs of its slots are
// retired.
func (s *Service) DeleteModel(ctx context.Context, by replenish.Principal, vendorCode, modelID string) error {
	_, err := s.change(ctx, by, vendorCode, modelID, "delete model", wholeModel, func(tx storage.Tx, m replenish.Model) error {
		for _, sl := range m.Slots {
			if err := s.retire(ctx, tx, sl); err != nil {
				return err
			}
		}
		return tx.DeleteModel(ctx, vendorCode, modelID)
	})
	return err
}

// retire deletes a slot's request, retiring its replenishment ID: the
// gateway then refuses it in discovery and events.
func (s *Service) retire(ctx context.Context, tx storage.Tx, sl replenish.Slot) error {
	if sl.Request == nil {
		return nil
	}
	return tx.DeleteRequest(ctx, sl.Request.RequestID, s.now())
}

// may refuses a principal that may not act for vendorCode: a vendor acts
// only for itself (another's models do not exist for it), the operator
// for everyone.
func may(by replenish.Principal, vendorCode string) error {
	switch {
	case by.Role == replenish.RoleOperator:
		return nil
	case by.Role == replenish.RoleVendor && by.VendorCode == vendorCode:
		return nil
	case by.Role == replenish.RoleVendor:
		return replenish.Errorf(replenish.ENotFound, "vendor %s not found", vendorCode)
	default:
		return replenish.Errorf(replenish.EForbidden, "only the vendor and the operator change device models")
	}
}

// A lock says whether a vendor may still make a change to m; the
// operator is never locked out.
type lock func(m replenish.Model) error

// submitted reports whether m is submitted for certification or certified.
func submitted(m replenish.Model) bool {
	return m.Certification == replenish.CertSubmitted || m.Certification == replenish.CertCertified
}

// wholeModel locks changes once the model is submitted.
func wholeModel(m replenish.Model) error {
	if submitted(m) {
		return replenish.Errorf(replenish.ELocked, "model %s is %s: after submission for certification a vendor may "+
			"only add marketplaces (and fill in and submit each new one); ask the operator for any other change",
			m.ModelID, strings.ToLower(m.Certification))
	}
	return nil
}

// listingOf locks changes to one marketplace once it is submitted: a
// marketplace added after the model's submission stays open until it is
// submitted on its own.
func listingOf(mp string) lock {
	return func(m replenish.Model) error {
		l, ok := m.Listings[mp]
		if !submitted(m) || (ok && l.Status == replenish.ListingDraft) {
			return nil
		}
		if !ok {
			return wholeModel(m)
		}
		return replenish.Errorf(replenish.ELocked, "marketplace %s of model %s is %s: after submission for certification "+
			"a vendor may only add marketplaces (and fill in and submit each new one); ask the operator for any other change",
			mp, m.ModelID, strings.ToLower(l.Status))
	}
}

// unlocked never locks: test accounts and new marketplaces.
func unlocked(replenish.Model) error { return nil }

// change runs fn in a write transaction on a model that by may change,
// and records the change in the audit log when by is the operator.
func (s *Service) change(ctx context.Context, by replenish.Principal, vendorCode, modelID, action string, l lock,
	fn func(tx storage.Tx, m replenish.Model) error) (replenish.Model, error) {
	if err := may(by, vendorCode); err != nil {
		return replenish.Model{}, err
	}
	var after replenish.Model
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		before, err := tx.Model(ctx, vendorCode, modelID)
		if err != nil {
			return err
		}
		if by.Role != replenish.RoleOperator {
			if err := l(before); err != nil {
				return err
			}
		}
		if err := fn(tx, before); err != nil {
			return err
		}
		after, err = tx.Model(ctx, vendorCode, modelID)
		switch {
		case replenish.ErrorCode(err) == replenish.ENotFound:
			return s.audit(ctx, tx, by, vendorCode, modelID, action, &before, nil)
		case err != nil:
			return err
		}
		return s.audit(ctx, tx, by, vendorCode, modelID, action, &before, &after)
	})
	return after, err
}

// audit records an operator's change of a vendor's model; a vendor's own
// changes are not recorded.
func (s *Service) audit(ctx context.Context, tx storage.Tx, by replenish.Principal, vendorCode, modelID, action string, before, after any) error {
	if by.Role != replenish.RoleOperator {
		return nil
	}
	b, err := json.Marshal(before)
	if err != nil {
		return err
	}
	a, err := json.Marshal(after)
	if err != nil {
		return err
	}
	return tx.InsertAudit(ctx, replenish.AuditEntry{At: s.now(), Actor: by.Actor(), VendorCode: vendorCode,
		ModelID: modelID, Action: action, Before: b, After: a})
}

// AddMarketplace adds a marketplace to a model; every slot starts with the
// marketplace's placeholder product. Adding one already there changes
// nothing. A vendor may add marketplaces after submission: each new one is
// a draft, filled in and submitted on its own.
func (s *Service) AddMarketplace(ctx context.Context, by replenish.Principal, vendorCode, modelID, mp string) (replenish.Model, error) {
	return s.change(ctx, by, vendorCode, modelID, "add marketplace "+mp, unlocked, func(tx storage.Tx, m replenish.Model) error {
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
		return nil
	})
}

// RemoveMarketplace removes a marketplace from a model, with its names,
// product lists, image and test accounts.
func (s *Service) RemoveMarketplace(ctx context.Context, by replenish.Principal, vendorCode, modelID, mp string) (replenish.Model, error) {
	return s.change(ctx, by, vendorCode, modelID, "remove marketplace "+mp, listingOf(mp), func(tx storage.Tx, m replenish.Model) error {
		if !slices.Contains(m.Marketplaces, mp) {
			return notSoldIn(modelID, mp)
		}
		return tx.RemoveModelMarketplace(ctx, vendorCode, modelID, mp)
	})
}

func notSoldIn(modelID, mp string) error {
	return replenish.Errorf(replenish.ENotFound, "model %s is not sold in %s: add the marketplace first", modelID, mp)
}

// AddSlot adds a slot with a category; in every marketplace of the model it
// starts with the placeholder product.
func (s *Service) AddSlot(ctx context.Context, by replenish.Principal, vendorCode, modelID, slotID, category string) (replenish.Model, error) {
	f := replenish.Fields{}
	if !identPattern.MatchString(slotID) {
		f.Add("slotId", "must be 1 to 64 characters of A-Z a-z 0-9 . _ -")
	}
	category = checkCategory(f, category)
	if err := f.Err(); err != nil {
		return replenish.Model{}, err
	}
	return s.change(ctx, by, vendorCode, modelID, "add slot "+slotID, wholeModel, func(tx storage.Tx, m replenish.Model) error {
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

// RemoveSlot removes a slot, never the last one. Its replenishment ID is
// retired: discovery and events naming it are refused from then on.
func (s *Service) RemoveSlot(ctx context.Context, by replenish.Principal, vendorCode, modelID, slotID string) (replenish.Model, error) {
	return s.change(ctx, by, vendorCode, modelID, "remove slot "+slotID, wholeModel, func(tx storage.Tx, m replenish.Model) error {
		sl, err := slotOf(m, slotID)
		if err != nil {
			return err
		}
		if len(m.Slots) == 1 {
			return replenish.Errorf(replenish.EConflict, "slot %s is the last slot of model %s: a model has at least one slot; add another first",
				slotID, modelID)
		}
		if err := s.retire(ctx, tx, sl); err != nil {
			return err
		}
		return tx.DeleteSlot(ctx, vendorCode, modelID, slotID)
	})
}

// SetSlotCategory sets the category of a slot, such as the default slot
// that a new model starts with.
func (s *Service) SetSlotCategory(ctx context.Context, by replenish.Principal, vendorCode, modelID, slotID, category string) (replenish.Model, error) {
	f := replenish.Fields{}
	category = checkCategory(f, category)
	if err := f.Err(); err != nil {
		return replenish.Model{}, err
	}
	return s.change(ctx, by, vendorCode, modelID, "set category of slot "+slotID, wholeModel, func(tx storage.Tx, m replenish.Model) error {
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

// checkCategory returns the canonical spelling of category, or adds its
// problem to f.
func checkCategory(f replenish.Fields, category string) string {
	c, ok := catalog.NormalizeCategory(category)
	if !ok {
		f.Add("category", "must be one of "+strings.Join(catalog.Categories, ", ")+
			" (any case; words may be joined by spaces or hyphens)")
	}
	return c
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
func (s *Service) SetSlotProducts(ctx context.Context, by replenish.Principal, vendorCode, modelID, slotID, mp string, productIDs []string) (replenish.Model, error) {
	action := "set products of slot " + slotID + " in " + mp
	return s.change(ctx, by, vendorCode, modelID, action, listingOf(mp), func(tx storage.Tx, m replenish.Model) error {
		sl, err := slotOf(m, slotID)
		if err != nil {
			return err
		}
		if !slices.Contains(m.Marketplaces, mp) {
			return notSoldIn(modelID, mp)
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

// Audit lists the recorded operator changes of a vendor's models, of one
// model or all ("" modelID); the operator may ask for every vendor's ("").
func (s *Service) Audit(ctx context.Context, by replenish.Principal, vendorCode, modelID string) (es []replenish.AuditEntry, err error) {
	if vendorCode != "" || by.Role != replenish.RoleOperator {
		if err := may(by, vendorCode); err != nil {
			return nil, err
		}
	}
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		if modelID != "" {
			if _, err := tx.Model(ctx, vendorCode, modelID); err != nil {
				return err
			}
		}
		es, err = tx.Audit(ctx, vendorCode, modelID)
		return err
	})
	return es, err
}
