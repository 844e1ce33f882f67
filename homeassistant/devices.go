package homeassistant

import (
	"context"

	"replenish"
	"replenish/customers"
	"replenish/storage"
)

// devices reads the customer's devices as Home Assistant is told of them:
// their slots as the customer API shows them (asking no vendor for fresh
// levels: nobody is looking), named as the vendor listed them in the
// customer's marketplace, with each slot's newest order.
func (b *Bridge) devices(ctx context.Context, customerID string) ([]Device, error) {
	es, err := b.customers.Snapshot(ctx, customerID)
	if err != nil {
		return nil, err
	}
	out := make([]Device, 0, len(es))
	err = b.store.Read(ctx, func(tx storage.Tx) error {
		c, err := tx.Customer(ctx, customerID)
		if err != nil {
			return err
		}
		vendors := map[string]string{}
		models := map[[2]string]customers.PageModel{}
		titles := map[string]string{}
		for _, e := range es {
			name, ok := vendors[e.VendorCode]
			if !ok {
				v, err := tx.Vendor(ctx, e.VendorCode)
				if err != nil {
					return err
				}
				name, vendors[e.VendorCode] = v.Name, v.Name
			}
			key := [2]string{e.VendorCode, e.ModelID}
			pm, ok := models[key]
			if !ok {
				m, err := tx.Model(ctx, e.VendorCode, e.ModelID)
				if err != nil {
					return err
				}
				pm = customers.ModelOf(m, c.Marketplace)
				models[key] = pm
			}
			d := Device{Endpoint: e, Vendor: name, Model: pm, Orders: map[string]Order{}}
			for i, sl := range e.Slots {
				if n := pm.SlotNames[sl.SlotID]; n != "" {
					d.Endpoint.Slots[i].Name = n
				}
				os, err := tx.ListOrders(ctx, storage.OrderFilter{CustomerID: customerID, EndpointID: e.EndpointID,
					SlotID: sl.SlotID, Limit: 1})
				if err != nil {
					return err
				}
				if len(os) == 0 {
					continue
				}
				o := os[0]
				title, ok := titles[o.ProductID]
				if !ok {
					p, err := tx.Product(ctx, o.ProductID)
					if err != nil && replenish.ErrorCode(err) != replenish.ENotFound {
						return err
					}
					title = p.Offers[c.Marketplace].Title
					titles[o.ProductID] = title
				}
				d.Orders[sl.SlotID] = Order{Order: o, Title: title}
			}
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// origin is what Home Assistant is told of the source of the entities.
func (b *Bridge) origin() Origin {
	o := Origin{Name: "Replenish", SWVersion: b.set.Version}
	if b.set.BaseURL != "" {
		o.SupportURL = b.set.BaseURL + "/account/notifications"
	}
	return o
}
