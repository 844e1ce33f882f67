// Package customers is what a customer sees and changes: their devices and
// slots, the mode and product of each slot, their orders, and their feed.
package customers

import (
	"context"
	"math"
	"slices"
	"time"

	"replenish"
	"replenish/engine"
	"replenish/measure"
	"replenish/notifications"
	"replenish/storage"
)

// Service runs the customer's use cases, one transaction each.
type Service struct {
	store  storage.Store
	now    func() time.Time
	notify *notifications.Service
	asker  StateAsker
	kits   StateAsker
	after  time.Duration
	// silentAfter is how long a slot may stay silent before it is shown
	// as not reporting.
	silentAfter time.Duration
	// window is the cancellation window, which forecasts count in.
	window time.Duration
}

// New returns a Service on store; now is the clock, notify tells vendors
// of their customers' changes.
func New(store storage.Store, now func() time.Time, notify *notifications.Service) *Service {
	return &Service{store: store, now: now, notify: notify, silentAfter: engine.StaleAfter}
}

// NotReportingAfter sets how long a slot may stay silent before it is
// shown as not reporting (engine.StaleAfter by default).
func (s *Service) NotReportingAfter(d time.Duration) { s.silentAfter = d }

// CancelWindow sets the cancellation window that forecasts count in.
func (s *Service) CancelWindow(d time.Duration) { s.window = d }

// StateAsker asks a vendor's cloud, in the background and without
// blocking, to report the current state of a customer's endpoint.
type StateAsker interface {
	Ask(vendorCode, customerID, endpointID string)
}

// AskStateWith has Endpoints ask for the state of each device whose
// newest level is older than after (or that never reported one): a
// vendor cloud's endpoint through cloud, a CONNECT_KIT device through
// kits, which asks it over MQTT.
func (s *Service) AskStateWith(cloud, kits StateAsker, after time.Duration) {
	s.asker, s.kits, s.after = cloud, kits, after
}

// ask asks, without blocking, for a fresh state of endpoint e of model m
// when its newest level is old.
func (s *Service) ask(m replenish.Model, customerID string, e replenish.Endpoint) {
	a := s.asker
	if m.Kind == replenish.KindConnectKit {
		a = s.kits
	}
	if a != nil && s.now().Sub(newestLevel(e)) > s.after {
		a.Ask(e.VendorCode, customerID, e.EndpointID)
	}
}

// Endpoint is a device as the customer API shows it.
type Endpoint struct {
	EndpointID   string `json:"endpointId"`
	VendorCode   string `json:"vendorCode"`
	ModelID      string `json:"modelId"`
	FriendlyName string `json:"friendlyName"`
	Slots        []Slot `json:"slots"`
	// Connectivity and LastSeenAt are a CONNECT_KIT device's, as its MQTT
	// session and last will said (left out for a vendor cloud's endpoints).
	Connectivity string     `json:"connectivity,omitempty"`
	LastSeenAt   *time.Time `json:"lastSeenAt,omitempty"`
	// ConnectKit says the device talks to Replenish itself, over MQTT:
	// its customer claimed it with a code and may remove it.
	ConnectKit bool `json:"-"`
}

// Slot is one supply of a device as the customer API shows it.
type Slot struct {
	SlotID      string     `json:"slotId"`
	Name        string     `json:"name"`
	SensorType  string     `json:"sensorType"`
	Level       *Level     `json:"level"`
	LevelAt     *time.Time `json:"levelAt"`
	Status      string     `json:"status"`
	Mode        string     `json:"mode"`
	ProductID   string     `json:"productId"`
	Products    []string   `json:"products"`
	OpenOrderID string     `json:"openOrderId"`
	// HouseholdInventory is the spare supply at home.
	HouseholdInventory Amount `json:"householdInventory"`
	// InstalledAt is when the part in the device was installed (replaced
	// or refilled), if known.
	InstalledAt *time.Time `json:"installedAt"`
	// RunOutDate and NextOrderDate are the forecast's, when there is one:
	// when the supply (device, household inventory and open order) runs
	// out, and, in AUTO mode, when the slot's policy expects to order.
	RunOutDate    *time.Time `json:"runOutDate"`
	NextOrderDate *time.Time `json:"nextOrderDate"`
	// Forecast says what the dates come from; nil before the slot has
	// reported twice.
	Forecast *Forecast `json:"forecast"`
}

// Forecast is a slot's consumption estimate and forecast, in the unit of
// its level.
type Forecast struct {
	// RatePerDay is the expected use per day, DailySpread the standard
	// deviation of one day's use.
	RatePerDay  float64 `json:"ratePerDay"`
	DailySpread float64 `json:"dailySpread"`
	// Observations and DaysObserved are the data behind it; Enough says
	// whether that is enough to forecast (else the threshold decides).
	Observations int64   `json:"observations"`
	DaysObserved float64 `json:"daysObserved"`
	Enough       bool    `json:"enough"`
	// InventoryPosition is the device, household inventory and open order
	// together; under FORECAST an order is placed when it falls to
	// ReorderPoint.
	InventoryPosition float64 `json:"inventoryPosition"`
	ReorderPoint      float64 `json:"reorderPoint"`
	Policy            string  `json:"policy"`
	ServiceLevel      float64 `json:"serviceLevel"`
	LeadTimeDays      float64 `json:"leadTimeDays"`
}

// Amount is a quantity with its unit.
type Amount struct {
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
}

// Level is a slot's newest amount, in the unit its sensor declared.
type Level struct {
	Type  measure.Type `json:"type"`
	Value float64      `json:"value"`
	Unit  measure.Unit `json:"unit,omitempty"`
}

// Endpoints lists the customer's devices with their slots. A device whose
// newest level is old is asked, in the background, for a fresh one: the
// customer is looking at it.
func (s *Service) Endpoints(ctx context.Context, customerID string) ([]Endpoint, error) {
	return s.endpoints(ctx, customerID, true)
}

// Snapshot lists the customer's devices with their slots as they stand,
// asking no vendor for fresh levels: for feeds that poll on their own
// (the calendar), where nobody is looking.
func (s *Service) Snapshot(ctx context.Context, customerID string) ([]Endpoint, error) {
	return s.endpoints(ctx, customerID, false)
}

func (s *Service) endpoints(ctx context.Context, customerID string, ask bool) ([]Endpoint, error) {
	var out []Endpoint
	err := s.store.Read(ctx, func(tx storage.Tx) error {
		c, err := tx.Customer(ctx, customerID)
		if err != nil {
			return err
		}
		es, err := tx.Endpoints(ctx, customerID)
		if err != nil {
			return err
		}
		models := map[[2]string]replenish.Model{}
		out = make([]Endpoint, 0, len(es))
		for _, e := range es {
			key := [2]string{e.VendorCode, e.ModelID}
			m, ok := models[key]
			if !ok {
				if m, err = tx.Model(ctx, e.VendorCode, e.ModelID); err != nil {
					return err
				}
				models[key] = m
			}
			v, err := s.deviceView(ctx, tx, e, m, c.Marketplace)
			if err != nil {
				return err
			}
			out = append(out, v)
			if ask {
				s.ask(m, customerID, e)
			}
		}
		return nil
	})
	return out, err
}

// deviceView is view, with a CONNECT_KIT device's connectivity.
func (s *Service) deviceView(ctx context.Context, tx storage.Tx, e replenish.Endpoint, m replenish.Model, mp string) (Endpoint, error) {
	v := s.view(e, m, mp)
	if m.Kind != replenish.KindConnectKit {
		return v, nil
	}
	v.ConnectKit = true
	d, _, err := tx.Device(ctx, e.EndpointID)
	if err != nil && replenish.ErrorCode(err) != replenish.ENotFound {
		return v, err
	}
	v.Connectivity = d.Connectivity
	if !d.LastSeenAt.IsZero() {
		v.LastSeenAt = &d.LastSeenAt
	}
	return v, nil
}

// newestLevel is when the device last reported any of its levels (the
// zero time when it never did).
func newestLevel(e replenish.Endpoint) time.Time {
	var newest time.Time
	for _, sl := range e.Slots {
		if sl.State.LastSampleAt.After(newest) {
			newest = sl.State.LastSampleAt
		}
	}
	return newest
}

func (s *Service) view(e replenish.Endpoint, m replenish.Model, mp string) Endpoint {
	now := s.now()
	v := Endpoint{EndpointID: e.EndpointID, VendorCode: e.VendorCode, ModelID: e.ModelID,
		FriendlyName: e.FriendlyName, Slots: []Slot{}}
	for _, sl := range e.Slots {
		sl.Plan.Window = s.window
		out := Slot{SlotID: sl.SlotID, Name: sl.Name, SensorType: sl.SensorType, Status: engine.Status(sl, now, s.silentAfter),
			Mode: sl.Mode, ProductID: sl.ProductID, Products: productList(m, sl.SlotID, mp), OpenOrderID: sl.State.OpenOrderID}
		// A USAGE slot's amount is the household inventory, known (zero
		// at first) before the device reports any usage.
		if !sl.State.LastSampleAt.IsZero() || sl.SensorType == replenish.SensorUsage {
			level := Level{Type: sl.Measurement.Type, Value: sl.State.Amount}
			if sl.Measurement.Unit != "" {
				// Shown in the unit the vendor declared, as the device reports it.
				if amount, err := measure.FromBase(sl.Measurement.Type, sl.State.Amount, sl.Measurement.Unit); err == nil {
					level.Value, level.Unit = amount, sl.Measurement.Unit
				}
			}
			out.Level = &level
			if at := sl.State.LastSampleAt; !at.IsZero() {
				out.LevelAt = &at
			}
		}
		if at := sl.State.ReplacedAt; !at.IsZero() {
			out.InstalledAt = &at
		}
		out.HouseholdInventory = household(sl)
		s.forecast(&out, sl, now)
		v.Slots = append(v.Slots, out)
	}
	return v
}

// forecast fills in slot out what the forecast of sl says at time now. A
// slot that stopped reporting has no dates: nothing is forecast on old
// data.
func (s *Service) forecast(out *Slot, sl replenish.EndpointSlot, now time.Time) {
	if sl.State.Rate.N < 2 {
		return
	}
	o := engine.Forecast(sl, now)
	unit := func(v float64) float64 {
		if sl.Measurement.Unit != "" {
			if u, err := measure.FromBase(sl.Measurement.Type, v, sl.Measurement.Unit); err == nil {
				v = u
			}
		}
		return math.Round(v*1000) / 1000
	}
	level := sl.Plan.ServiceLevel
	if level <= 0 {
		level = replenish.DefaultServiceLevel
	}
	out.Forecast = &Forecast{RatePerDay: unit(o.PerDay), DailySpread: unit(o.DaySD), Observations: o.Observations,
		DaysObserved: math.Round(o.Days*100) / 100, Enough: o.Enough, InventoryPosition: unit(o.Position),
		ReorderPoint: unit(o.ReorderPoint), Policy: sl.Policy, ServiceLevel: level, LeadTimeDays: sl.Plan.LeadDays}
	if out.Status == replenish.StatusNotReporting {
		return
	}
	if !o.RunOut.IsZero() {
		out.RunOutDate = &o.RunOut
	}
	if !o.NextOrder.IsZero() && sl.Mode == replenish.ModeAuto {
		out.NextOrderDate = &o.NextOrder
	}
}

// household is a slot's household inventory as the customer reads it:
// whole parts for a Percentage slot, else in the sensor's declared unit.
func household(sl replenish.EndpointSlot) Amount {
	unit, _ := householdUnit(sl)
	a := Amount{Value: engine.Household(sl), Unit: string(unit)}
	if unit == "" {
		a.Unit = "count"
		if sl.Measurement.Type == measure.Percentage {
			a.Unit = "parts"
		}
		return a
	}
	if v, err := measure.FromBase(sl.Measurement.Type, a.Value, unit); err == nil {
		a.Value = math.Round(v*1000) / 1000
	}
	return a
}

func productList(m replenish.Model, slotID, mp string) []string {
	for _, sl := range m.Slots {
		if sl.SlotID == slotID && sl.Products[mp] != nil {
			return sl.Products[mp]
		}
	}
	return []string{}
}

// Subscription is a customer's choice for one slot.
type Subscription struct {
	Mode      string `json:"mode"`
	ProductID string `json:"productId"`
}

// SetSubscription sets the mode and product of a slot. AUTO needs a
// product from the slot's list in the customer's marketplace; an empty
// product keeps the current one.
func (s *Service) SetSubscription(ctx context.Context, customerID, endpointID, slotID string, in Subscription) (Endpoint, error) {
	return s.changeSlot(ctx, customerID, endpointID, slotID, func(tx storage.Tx, c replenish.Customer, m replenish.Model, sl replenish.EndpointSlot) error {
		f := replenish.Fields{}
		if !slices.Contains([]string{replenish.ModeNotify, replenish.ModeAuto, replenish.ModeOff}, in.Mode) {
			f.Add("mode", "must be NOTIFY, AUTO or OFF")
		}
		list := productList(m, sl.SlotID, c.Marketplace)
		product := sl.ProductID
		if in.ProductID != "" {
			if !slices.Contains(list, in.ProductID) {
				f.Add("productId", "not on this slot's product list; choose one of the slot's products")
			}
			product = in.ProductID
		}
		if in.Mode == replenish.ModeAuto && product == "" {
			f.Add("productId", "smart reorder (AUTO) needs a product")
		}
		if err := f.Err(); err != nil {
			return err
		}
		// The price when chosen: an automatic order waits for the
		// customer when it has risen too much since. Choosing again
		// confirms the new price and lets the slot order again.
		price := ""
		if product != "" {
			p, err := tx.Product(ctx, product)
			if err != nil && replenish.ErrorCode(err) != replenish.ENotFound {
				return err
			}
			price = p.Offers[c.Marketplace].Price
		}
		if err := tx.SetSubscription(ctx, sl.ID, in.Mode, product, price); err != nil {
			return err
		}
		if sl.State.Ordered && sl.State.OpenOrderID == "" {
			sl.State.Ordered, sl.State.Notified = false, false
			if err := tx.SetSlotState(ctx, sl.ID, sl.State); err != nil {
				return err
			}
		}
		msg := "chose " + in.Mode
		if product != "" {
			msg += " with " + product
			if price != "" {
				msg += " at " + price
			}
		}
		if err := tx.InsertSlotChange(ctx, storage.SlotChange{Slot: sl.ID, Kind: storage.ChangeSubscription,
			Actor: replenish.ActorCustomer, Message: msg, At: s.now()}); err != nil {
			return err
		}
		e, err := tx.Endpoint(ctx, customerID, endpointID)
		if err != nil {
			return err
		}
		return s.notify.Subscriptions(ctx, tx, e, s.now())
	})
}

// changeSlot runs change on one slot of a customer's endpoint in one
// transaction, and returns the endpoint as it then is.
func (s *Service) changeSlot(ctx context.Context, customerID, endpointID, slotID string,
	change func(tx storage.Tx, c replenish.Customer, m replenish.Model, sl replenish.EndpointSlot) error) (Endpoint, error) {
	var out Endpoint
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		c, m, sl, err := loadSlot(ctx, tx, customerID, endpointID, slotID)
		if err != nil {
			return err
		}
		if err := change(tx, c, m, sl); err != nil {
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

// Check reports, as not found, an endpoint that is not the customer's, or
// a slot (when slotID is not empty) the endpoint does not have.
func (s *Service) Check(ctx context.Context, customerID, endpointID, slotID string) error {
	return s.store.Read(ctx, func(tx storage.Tx) error {
		if slotID != "" {
			_, _, _, err := loadSlot(ctx, tx, customerID, endpointID, slotID)
			return err
		}
		_, err := tx.Endpoint(ctx, customerID, endpointID)
		return err
	})
}

// loadSlot loads a customer, the model of one of their endpoints, and one
// of its slots.
func loadSlot(ctx context.Context, tx storage.Tx, customerID, endpointID, slotID string) (
	c replenish.Customer, m replenish.Model, sl replenish.EndpointSlot, err error) {
	if c, err = tx.Customer(ctx, customerID); err != nil {
		return c, m, sl, err
	}
	e, err := tx.Endpoint(ctx, customerID, endpointID)
	if err != nil {
		return c, m, sl, err
	}
	if m, err = tx.Model(ctx, e.VendorCode, e.ModelID); err != nil {
		return c, m, sl, err
	}
	for _, x := range e.Slots {
		if x.SlotID == slotID {
			return c, m, x, nil
		}
	}
	return c, m, sl, replenish.Errorf(replenish.ENotFound, "endpoint %s has no slot %s", endpointID, slotID)
}

// FeedLimit is how many feed entries one page holds.
const FeedLimit = 100

// Feed returns the customer's newest feed entries.
func (s *Service) Feed(ctx context.Context, customerID string) (fs []replenish.FeedEntry, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		fs, err = tx.Feed(ctx, customerID, FeedLimit)
		return err
	})
	return fs, err
}
