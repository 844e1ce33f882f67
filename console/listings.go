package console

import (
	"context"
	"slices"
	"strings"

	"replenish"
	"replenish/catalog"
	"replenish/images"
	"replenish/storage"
)

// A model's presence in each marketplace: its image and customer-facing
// names.

// PutImage stores a model's image: the default one when mp is "", else
// the one of marketplace mp. The answer carries a warning when the image
// is accepted with a reservation.
func (s *Service) PutImage(ctx context.Context, by replenish.Principal, vendorCode, modelID, mp string, data []byte) (replenish.ImageInfo, string, error) {
	checked, err := images.Check(data)
	if err != nil {
		return replenish.ImageInfo{}, "", err
	}
	info := replenish.ImageInfo{ContentType: checked.ContentType, Width: checked.Width, Height: checked.Height,
		Bytes: len(data), UpdatedAt: s.now()}
	l, action := wholeModel, "set the default image"
	if mp != "" {
		l, action = listingOf(mp), "set the image in "+mp
	}
	_, err = s.change(ctx, by, vendorCode, modelID, action, l, func(tx storage.Tx, m replenish.Model) error {
		if mp != "" && !slices.Contains(m.Marketplaces, mp) {
			return notSoldIn(modelID, mp)
		}
		return tx.PutImage(ctx, vendorCode, modelID, mp, replenish.Image{ImageInfo: info, Data: data})
	})
	return info, checked.Warning, err
}

// Image returns a model's image in marketplace mp, falling back to the
// model's default image; mp "" asks for the default.
func (s *Service) Image(ctx context.Context, vendorCode, modelID, mp string) (img replenish.Image, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		if mp != "" {
			img, err = tx.Image(ctx, vendorCode, modelID, mp)
			if replenish.ErrorCode(err) != replenish.ENotFound {
				return err
			}
		}
		img, err = tx.Image(ctx, vendorCode, modelID, "")
		return err
	})
	if replenish.ErrorCode(err) == replenish.ENotFound {
		return img, replenish.Errorf(replenish.ENotFound, "model %s of %s has no image", modelID, vendorCode)
	}
	return img, err
}

// Localization is what customers of one marketplace see of a model.
type Localization struct {
	DeviceName string            `json:"deviceName"`
	SlotNames  map[string]string `json:"slotNames"`
}

// PutLocalization sets a model's customer-facing device name and slot
// names in a marketplace, replacing the slot names given before. Names of
// slots the model does not have are refused; names left out are missing
// until given (certification says so).
func (s *Service) PutLocalization(ctx context.Context, by replenish.Principal, vendorCode, modelID, mp string, in Localization) (replenish.Model, error) {
	f := replenish.Fields{}
	textLen(f, "deviceName", in.DeviceName, 1, 100)
	for slotID, name := range in.SlotNames {
		textLen(f, "slotNames."+slotID, name, 1, 100)
	}
	if err := f.Err(); err != nil {
		return replenish.Model{}, err
	}
	return s.change(ctx, by, vendorCode, modelID, "set names in "+mp, listingOf(mp), func(tx storage.Tx, m replenish.Model) error {
		l, ok := m.Listings[mp]
		if !ok {
			return notSoldIn(modelID, mp)
		}
		for slotID := range in.SlotNames {
			if _, err := slotOf(m, slotID); err != nil {
				f.Add("slotNames."+slotID, "the model has no slot "+slotID)
			}
		}
		if err := f.Err(); err != nil {
			return err
		}
		l.DeviceName, l.SlotNames = in.DeviceName, in.SlotNames
		if l.SlotNames == nil {
			l.SlotNames = map[string]string{}
		}
		return tx.PutListing(ctx, vendorCode, modelID, mp, l)
	})
}

// Names are the customer-facing names of a model: the device's and each
// slot's, by slot ID.
type Names struct {
	DeviceName string
	SlotNames  map[string]string
}

// CustomerNames returns the names a customer of marketplace mp with
// locale sees for model m. It takes the model's listing in mp; failing
// that (the model is not sold there, or a name is missing there), the
// first listing, in the order the marketplaces were added, whose
// marketplace speaks the customer's language; then the first listing
// with a name at all; and last the model's own name and the slot IDs,
// so that every name is something.
func CustomerNames(m replenish.Model, mp, locale string) Names {
	lang, _, _ := strings.Cut(locale, "-")
	order := []string{}
	if _, ok := m.Listings[mp]; ok {
		order = append(order, mp)
	}
	for _, code := range m.Marketplaces {
		if code != mp && languageOf(code) == lang {
			order = append(order, code)
		}
	}
	for _, code := range m.Marketplaces {
		if !slices.Contains(order, code) {
			order = append(order, code)
		}
	}
	pick := func(name func(l replenish.Listing) string, last string) string {
		for _, code := range order {
			if n := name(m.Listings[code]); n != "" {
				return n
			}
		}
		return last
	}
	n := Names{DeviceName: pick(func(l replenish.Listing) string { return l.DeviceName }, m.Name), SlotNames: map[string]string{}}
	for _, sl := range m.Slots {
		n.SlotNames[sl.SlotID] = pick(func(l replenish.Listing) string { return l.SlotNames[sl.SlotID] }, sl.SlotID)
	}
	return n
}

// languageOf is the language of a marketplace's default locale.
func languageOf(mp string) string {
	for _, m := range catalog.Marketplaces {
		if m.Code == mp {
			lang, _, _ := strings.Cut(m.Locale, "-")
			return lang
		}
	}
	return ""
}
