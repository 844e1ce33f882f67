package customers

import (
	"context"
	"net/url"

	"replenish"
	"replenish/storage"
)

// Page is what the customer's management pages show of one vendor, or of
// one of its device models: the customer, the vendor, the customer's
// devices of that vendor (and model), named as the vendor listed them in
// the customer's marketplace, and the products their slots may order,
// with their prices there.
type Page struct {
	Customer replenish.Customer
	Vendor   PageVendor
	// Model is the device model asked for; nil when the page is about
	// every device of the vendor.
	Model *PageModel
	// Models are the models of Devices, by model ID.
	Models  map[string]PageModel
	Devices []Endpoint
	// Offers are the products the slots of Devices may order, by product
	// ID, as sold in the customer's marketplace.
	Offers map[string]Offer
	// LinkStatus is the customer's link with the vendor ("" when never
	// linked).
	LinkStatus string
}

// PageVendor is a vendor as its customers see it.
type PageVendor struct {
	Code string
	Name string
	// AllowedExitURIs are where the vendor's links may send customers back.
	AllowedExitURIs []string
	// Linkable reports whether the vendor's cloud can be linked.
	Linkable bool
}

// PageModel is a device model as a customer of one marketplace sees it.
type PageModel struct {
	ModelID string
	// Name is the model's name in the customer's marketplace, or the
	// vendor's own name for it.
	Name string
	// SlotNames are the slots' names in the marketplace, by slot ID.
	SlotNames map[string]string
	// ImageURL is the path of the model's image ("" for none).
	ImageURL string
}

// Offer is a product as a customer's marketplace sells it.
type Offer struct {
	ProductID    string
	Title        string
	PackQuantity float64
	PackUnit     string
	Price        string
	Currency     string
	Available    bool
}

// Page returns what the management pages show the customer of a vendor
// and, unless modelID is "", of one of its models. An unknown vendor or
// model is not found.
func (s *Service) Page(ctx context.Context, customerID, vendorCode, modelID string) (Page, error) {
	var out Page
	err := s.store.Read(ctx, func(tx storage.Tx) error {
		c, err := tx.Customer(ctx, customerID)
		if err != nil {
			return err
		}
		v, err := tx.Vendor(ctx, vendorCode)
		if replenish.ErrorCode(err) == replenish.ENotFound {
			return replenish.Errorf(replenish.ENotFound, "no vendor %q", vendorCode)
		}
		if err != nil {
			return err
		}
		out = Page{Customer: c, Vendor: PageVendor{Code: v.Code, Name: v.Name, AllowedExitURIs: v.Settings.AllowedExitURIs,
			Linkable: v.Settings.SkillEndpointURL != ""}, Models: map[string]PageModel{}, Offers: map[string]Offer{},
			Devices: []Endpoint{}}
		models := map[string]replenish.Model{}
		if modelID != "" {
			m, err := tx.Model(ctx, vendorCode, modelID)
			if replenish.ErrorCode(err) == replenish.ENotFound {
				return replenish.Errorf(replenish.ENotFound, "vendor %s has no device model %q", vendorCode, modelID)
			}
			if err != nil {
				return err
			}
			models[modelID] = m
			pm := ModelOf(m, c.Marketplace)
			out.Model = &pm
			out.Models[modelID] = pm
		}
		if l, err := tx.Link(ctx, customerID, vendorCode); err == nil {
			out.LinkStatus = l.Status
		} else if replenish.ErrorCode(err) != replenish.ENotFound {
			return err
		}
		es, err := tx.Endpoints(ctx, customerID)
		if err != nil {
			return err
		}
		for _, e := range es {
			if e.VendorCode != vendorCode || (modelID != "" && e.ModelID != modelID) {
				continue
			}
			m, ok := models[e.ModelID]
			if !ok {
				if m, err = tx.Model(ctx, e.VendorCode, e.ModelID); err != nil {
					return err
				}
				models[e.ModelID] = m
				out.Models[e.ModelID] = ModelOf(m, c.Marketplace)
			}
			view, err := s.deviceView(ctx, tx, e, m, c.Marketplace)
			if err != nil {
				return err
			}
			for i, sl := range view.Slots {
				if name := out.Models[e.ModelID].SlotNames[sl.SlotID]; name != "" {
					view.Slots[i].Name = name
				}
				for _, id := range sl.Products {
					if _, ok := out.Offers[id]; ok {
						continue
					}
					p, err := tx.Product(ctx, id)
					if replenish.ErrorCode(err) == replenish.ENotFound {
						continue
					}
					if err != nil {
						return err
					}
					o := p.Offers[c.Marketplace]
					out.Offers[id] = Offer{ProductID: id, Title: o.Title, PackQuantity: p.PackQuantity, PackUnit: p.PackUnit,
						Price: o.Price, Currency: o.Currency, Available: o.Available}
				}
			}
			out.Devices = append(out.Devices, view)
			s.ask(m, customerID, e)
		}
		return nil
	})
	return out, err
}

// ModelOf is model m as a customer of marketplace mp sees it: its name and
// slot names there, and the path of its image.
func ModelOf(m replenish.Model, mp string) PageModel {
	pm := PageModel{ModelID: m.ModelID, Name: m.Name, SlotNames: map[string]string{}}
	l, ok := m.Listings[mp]
	if ok && l.DeviceName != "" {
		pm.Name = l.DeviceName
	}
	for id, name := range l.SlotNames {
		if name != "" {
			pm.SlotNames[id] = name
		}
	}
	base := "/images/" + url.PathEscape(m.VendorCode) + "/" + url.PathEscape(m.ModelID)
	switch {
	case ok && l.Image != nil:
		pm.ImageURL = base + "/" + url.PathEscape(mp)
	case m.Image != nil:
		pm.ImageURL = base
	}
	return pm
}

// VendorLink is a vendor a customer may link, with the customer's link.
type VendorLink struct {
	Code   string
	Name   string
	Status string // "" when never linked
}

// Vendors lists the vendors whose cloud can be linked, with the
// customer's link with each.
func (s *Service) Vendors(ctx context.Context, customerID string) ([]VendorLink, error) {
	var out []VendorLink
	err := s.store.Read(ctx, func(tx storage.Tx) error {
		if _, err := tx.Customer(ctx, customerID); err != nil {
			return err
		}
		vs, err := tx.Vendors(ctx)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if v.Settings.SkillEndpointURL == "" {
				continue
			}
			vl := VendorLink{Code: v.Code, Name: v.Name}
			l, err := tx.Link(ctx, customerID, v.Code)
			switch {
			case err == nil:
				vl.Status = l.Status
			case replenish.ErrorCode(err) != replenish.ENotFound:
				return err
			}
			out = append(out, vl)
		}
		return nil
	})
	return out, err
}

// Customer returns a customer.
func (s *Service) Customer(ctx context.Context, customerID string) (c replenish.Customer, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		c, err = tx.Customer(ctx, customerID)
		return err
	})
	return c, err
}
