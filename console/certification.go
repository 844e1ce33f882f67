package console

import (
	"context"
	"slices"
	"strings"

	"replenish"
	"replenish/catalog"
	"replenish/storage"
)

// Certification. A model is submitted whole; afterwards the vendor may
// only add marketplaces, each a draft listing that is filled in and
// submitted on its own. The operator approves or rejects what is
// submitted: the whole model, or the marketplaces added since.

// SubmitCertification submits a model for certification. When something
// is missing, nothing changes and the error names every missing item.
func (s *Service) SubmitCertification(ctx context.Context, by replenish.Principal, vendorCode, modelID string) (replenish.Model, error) {
	return s.change(ctx, by, vendorCode, modelID, "submit for certification", unlocked, func(tx storage.Tx, m replenish.Model) error {
		if submitted(m) {
			return replenish.Errorf(replenish.EConflict, "model %s is already %s; a marketplace added since is submitted "+
				"with POST .../marketplaces/{mp}/certification", modelID, strings.ToLower(m.Certification))
		}
		if f := missing(m, m.Marketplaces); len(f) > 0 {
			return notReady("model "+modelID+" is not ready for certification", f)
		}
		m.Certification, m.CertificationReason = replenish.CertSubmitted, ""
		if err := tx.UpdateModel(ctx, m); err != nil {
			return err
		}
		return setListings(ctx, tx, m, m.Marketplaces, replenish.ListingSubmitted, "")
	})
}

// SubmitListing submits a marketplace added after the model's submission.
func (s *Service) SubmitListing(ctx context.Context, by replenish.Principal, vendorCode, modelID, mp string) (replenish.Model, error) {
	return s.change(ctx, by, vendorCode, modelID, "submit marketplace "+mp+" for certification", unlocked, func(tx storage.Tx, m replenish.Model) error {
		l, ok := m.Listings[mp]
		switch {
		case !ok:
			return notSoldIn(modelID, mp)
		case !submitted(m):
			return replenish.Errorf(replenish.EConflict, "model %s is not submitted yet: submit the whole model with POST .../certification", modelID)
		case l.Status != replenish.ListingDraft:
			return replenish.Errorf(replenish.EConflict, "marketplace %s of model %s is already %s", mp, modelID, strings.ToLower(l.Status))
		}
		if f := missing(m, []string{mp}); len(f) > 0 {
			return notReady("marketplace "+mp+" of model "+modelID+" is not ready for certification", f)
		}
		return setListings(ctx, tx, m, []string{mp}, replenish.ListingSubmitted, "")
	})
}

// missing lists, field by field, what a model lacks for certification in
// the marketplaces mps: every slot an assigned replenishment ID; every
// marketplace a device name, every slot's name and a product list with a
// real product (the placeholder is for testing); an image.
func missing(m replenish.Model, mps []string) replenish.Fields {
	f := replenish.Fields{}
	if len(m.Marketplaces) == 0 {
		f.Add("marketplaces", "add at least one marketplace")
	}
	if m.Image == nil && len(mps) == 0 {
		f.Add("image", "upload an image: PUT .../image")
	}
	for _, sl := range m.Slots {
		switch {
		case sl.Request == nil:
			f.Add("slots."+sl.SlotID+".replenishmentId", "missing: request a replenishment ID for the slot")
		case sl.Request.Status != replenish.RequestAssigned:
			f.Add("slots."+sl.SlotID+".replenishmentId", "missing: the slot's request is "+sl.Request.Status+", not yet ASSIGNED")
		}
	}
	for _, mp := range mps {
		l := m.Listings[mp]
		if l.DeviceName == "" {
			f.Add("listings."+mp+".deviceName", "missing: the customer-facing device name in "+mp)
		}
		if m.Image == nil && l.Image == nil {
			f.Add("listings."+mp+".image", "missing: upload an image for the model or for "+mp)
		}
		for _, sl := range m.Slots {
			if l.SlotNames[sl.SlotID] == "" {
				f.Add("listings."+mp+".slotNames."+sl.SlotID, "missing: the customer-facing name of slot "+sl.SlotID+" in "+mp)
			}
			real := slices.DeleteFunc(slices.Clone(sl.Products[mp]), func(id string) bool { return id == catalog.PlaceholderProductID(mp) })
			if len(real) == 0 {
				f.Add("slots."+sl.SlotID+".products."+mp, "missing: at least one product of the catalog (the placeholder is for testing only)")
			}
		}
	}
	return f
}

// setListings gives the listings of mps a status and a reason.
func setListings(ctx context.Context, tx storage.Tx, m replenish.Model, mps []string, status, reason string) error {
	for _, mp := range mps {
		l := m.Listings[mp]
		l.Status, l.RejectReason = status, reason
		if err := tx.PutListing(ctx, m.VendorCode, m.ModelID, mp, l); err != nil {
			return err
		}
	}
	return nil
}

// submittedListings lists the marketplaces of m whose listing is submitted.
func submittedListings(m replenish.Model) []string {
	var mps []string
	for _, mp := range m.Marketplaces {
		if m.Listings[mp].Status == replenish.ListingSubmitted {
			mps = append(mps, mp)
		}
	}
	return mps
}

// ApproveCertification approves what is submitted of a model: the model
// goes live in its submitted marketplaces, or, for a certified model, the
// marketplaces submitted since go live.
func (s *Service) ApproveCertification(ctx context.Context, by replenish.Principal, vendorCode, modelID string) (replenish.Model, error) {
	if by.Role != replenish.RoleOperator {
		return replenish.Model{}, replenish.Errorf(replenish.EForbidden, "only the operator certifies models")
	}
	return s.change(ctx, by, vendorCode, modelID, "approve certification", unlocked, func(tx storage.Tx, m replenish.Model) error {
		mps := submittedListings(m)
		if m.Certification != replenish.CertSubmitted && len(mps) == 0 {
			return nothingSubmitted(m)
		}
		if m.Certification == replenish.CertSubmitted {
			m.Certification, m.CertificationReason = replenish.CertCertified, ""
			if err := tx.UpdateModel(ctx, m); err != nil {
				return err
			}
		}
		return setListings(ctx, tx, m, mps, replenish.ListingCertified, "")
	})
}

// RejectCertification rejects what is submitted of a model with a reason
// the vendor sees: a submitted model is editable again, its listings
// drafts; for a certified model, the marketplaces submitted since are
// drafts again.
func (s *Service) RejectCertification(ctx context.Context, by replenish.Principal, vendorCode, modelID, reason string) (replenish.Model, error) {
	if by.Role != replenish.RoleOperator {
		return replenish.Model{}, replenish.Errorf(replenish.EForbidden, "only the operator certifies models")
	}
	f := replenish.Fields{}
	textLen(f, "reason", reason, 1, 1000)
	if err := f.Err(); err != nil {
		return replenish.Model{}, err
	}
	return s.change(ctx, by, vendorCode, modelID, "reject certification", unlocked, func(tx storage.Tx, m replenish.Model) error {
		mps := submittedListings(m)
		switch {
		case m.Certification == replenish.CertSubmitted:
			m.Certification, m.CertificationReason = replenish.CertRejected, reason
			if err := tx.UpdateModel(ctx, m); err != nil {
				return err
			}
			return setListings(ctx, tx, m, m.Marketplaces, replenish.ListingDraft, "")
		case len(mps) > 0:
			return setListings(ctx, tx, m, mps, replenish.ListingDraft, reason)
		}
		return nothingSubmitted(m)
	})
}

func nothingSubmitted(m replenish.Model) error {
	return replenish.Errorf(replenish.EConflict, "nothing of model %s is waiting for certification (it is %s)",
		m.ModelID, strings.ToLower(m.Certification))
}
