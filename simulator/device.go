package simulator

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"sync"
	"time"

	"replenish"
	"replenish/gateway"
	"replenish/measure"
)

// Device is one simulated appliance of a kind.
type Device struct {
	EndpointID   string
	FriendlyName string
	Kind         *Kind
	// Levels is what is left per slot: for a level sensor in the slot's
	// measurement, for a level-usage sensor the percent of the part's life
	// left; usage sensors keep no level. The fleet's goroutine changes it
	// under mu; others read it through levels.
	Levels []float64
	mu     sync.Mutex
	// Drain is each slot's use per simulated day of use.
	Drain []float64

	used     []float64 // use not reported yet (usage and level-usage sensors)
	lowFor   []float64 // simulated days spent at or below the threshold
	patience []float64 // how long the customer waits before refilling
	replaced []bool    // a replacement not reported yet
	rand     *rand.Rand
	held     []message // reports held back, to arrive after newer ones
	silent   bool      // the device stopped reporting
}

// NewDevice returns a device of kind k whose first parts are partly used.
// r drives everything random about it, so that a seed replays a fleet.
func NewDevice(k *Kind, endpointID, friendlyName string, r *rand.Rand) *Device {
	d := &Device{EndpointID: endpointID, FriendlyName: friendlyName, Kind: k, rand: r}
	for _, s := range k.Slots {
		level := 0.0
		if s.Sensor != replenish.SensorUsage {
			level = math.Round(between(r, s.StartMin, s.StartMax))
		}
		d.Levels = append(d.Levels, level)
		d.Drain = append(d.Drain, between(r, s.UseMin, s.UseMax))
		d.patience = append(d.patience, d.newPatience())
	}
	d.used = make([]float64, len(k.Slots))
	d.lowFor = make([]float64, len(k.Slots))
	d.replaced = make([]bool, len(k.Slots))
	return d
}

func between(r *rand.Rand, lo, hi float64) float64 { return lo + r.Float64()*(hi-lo) }

// levels returns a copy of Levels, safe to call from any goroutine.
func (d *Device) levels() []float64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]float64(nil), d.Levels...)
}

// newPatience is how many simulated days a customer lets a supply stay low
// before refilling it: at least three, so that three daily low readings
// reach Replenish first, as they would while an order is on its way.
func (d *Device) newPatience() float64 { return 3 + 5*d.rand.Float64() }

// step moves d forward by days of simulated time: a slot that has been
// low long enough is refilled or its part replaced (with a full level),
// then every slot is used at its rate unless the day was idle.
func (d *Device) step(days float64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	idle := d.rand.Float64()
	for i, s := range d.Kind.Slots {
		if s.Sensor != replenish.SensorUsage {
			if d.Levels[i] <= s.Threshold {
				d.lowFor[i] += days
			}
			if d.lowFor[i] >= d.patience[i] {
				d.Levels[i], d.lowFor[i], d.patience[i] = s.Full, 0, d.newPatience()
				if s.Sensor == replenish.SensorLevelUsage {
					// Use not yet reported was the old part's; the new
					// part starts from nothing.
					d.replaced[i], d.used[i] = true, 0
				}
			}
		}
		if idle < s.IdleChance {
			continue
		}
		use := d.Drain[i] * days * between(d.rand, 0.5, 1.5)
		if s.Sensor != replenish.SensorUsage {
			use = min(use, d.Levels[i])
			d.Levels[i] -= use
		}
		if s.Sensor != replenish.SensorLevel {
			d.used[i] += use
		}
	}
}

// A message is one event body a device sends, and what it is.
type message struct {
	name  string // the event's name, for the summary
	token string // the customer's access token, also in the body
	body  []byte
	// bad says the message breaks a rule on purpose, as noise: the
	// gateway must refuse it.
	bad bool
}

// messages are what d reports at time at with token: one ChangeReport
// with every level sensor's level, an InventoryReplaced for each part
// replaced since the last report, and an InventoryConsumed for each
// usage and level-usage sensor with the whole units used since then (the
// fraction is kept for the next report).
func (d *Device) messages(token string, at time.Time, newID func() string) []message {
	var out []message
	if m, ok := d.levelReport(token, newID(), at); ok {
		out = append(out, m)
	}
	for i, s := range d.Kind.Slots {
		if s.Sensor == replenish.SensorLevel {
			continue
		}
		if d.replaced[i] {
			d.replaced[i] = false
			out = append(out, d.event(s, "InventoryReplaced", token, newID(), map[string]any{
				"newAbsoluteLevel": map[string]any{"@type": "Percentage", "value": int(s.Full)},
				"replaceDate":      stamp(at),
			}))
		}
		whole := math.Floor(d.used[i])
		d.used[i] -= whole
		out = append(out, d.event(s, "InventoryConsumed", token, newID(), map[string]any{
			"usage":        map[string]any{"@type": string(s.Measure), "value": int(whole)},
			"timeOfSample": stamp(at),
		}))
	}
	return out
}

// levelReport is the ChangeReport of d's level sensors, if it has any.
func (d *Device) levelReport(token, messageID string, at time.Time) (message, bool) {
	var props []map[string]any
	for i, s := range d.Kind.Slots {
		if s.Sensor == replenish.SensorLevel {
			props = append(props, map[string]any{
				"namespace": gateway.LevelSensor, "instance": s.Instance, "name": "level",
				"value": d.levelValue(s, d.Levels[i]), "timeOfSample": stamp(at), "uncertaintyInMilliseconds": 0,
			})
		}
	}
	if props == nil {
		return message{}, false
	}
	body, _ := json.Marshal(map[string]any{
		"event": map[string]any{
			"header":   gateway.Header{Namespace: "Alexa", Name: "ChangeReport", PayloadVersion: "3", MessageID: messageID},
			"endpoint": gateway.EndpointRef{Scope: scope(token), EndpointID: d.EndpointID},
			"payload": map[string]any{"change": map[string]any{
				"cause": map[string]string{"type": "PERIODIC_POLL"}, "properties": props}},
		},
		"context": map[string]any{"properties": []any{}},
	})
	return message{name: "ChangeReport", token: token, body: body}, true
}

// levelValue is a level as the device reports it: whole percent, whole
// counts, or a volume in the slot's unit or now and then in another unit
// of the same kind.
func (d *Device) levelValue(s Slot, level float64) map[string]any {
	if s.Measure != measure.Volume {
		return map[string]any{"@type": string(s.Measure), "value": int(math.Round(level))}
	}
	unit := s.Unit
	if len(s.OtherUnits) > 0 && d.rand.Float64() < 0.25 {
		unit = s.OtherUnits[d.rand.IntN(len(s.OtherUnits))]
	}
	base, _ := measure.ToBase(s.Measure, level, s.Unit)
	v, _ := measure.FromBase(s.Measure, base, unit)
	return map[string]any{"@type": string(s.Measure), "value": math.Round(v*10000) / 10000, "unit": string(unit)}
}

// event is an inventory sensor's own event, named by its instance in the
// header.
func (d *Device) event(s Slot, name, token, messageID string, payload map[string]any) message {
	body, _ := json.Marshal(map[string]any{
		"event": map[string]any{
			"header": gateway.Header{Namespace: s.Interface(), Name: name, Instance: s.Instance,
				PayloadVersion: "3", MessageID: messageID},
			"endpoint": gateway.EndpointRef{Scope: scope(token), EndpointID: d.EndpointID},
			"payload":  payload,
		},
	})
	return message{name: name, token: token, body: body}
}

// scope is the bearer token's scope of an event; a kit's events, whose
// MQTT session is their identity, have none (token "").
func scope(token string) *gateway.Scope {
	if token == "" {
		return nil
	}
	return &gateway.Scope{Type: "BearerToken", Token: token}
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// describe is d as discovery reports it: one inventory capability per
// slot, each naming its slot's replenishment ID.
func (d *Device) describe() gateway.DiscoveredEndpoint {
	k := d.Kind
	e := gateway.DiscoveredEndpoint{
		EndpointID: d.EndpointID, ManufacturerName: k.Manufacturer, Description: "A " + k.ModelName,
		FriendlyName: d.FriendlyName, DisplayCategories: []string{"OTHER"},
		AdditionalAttributes: &gateway.AdditionalAttributes{Model: k.ModelID},
	}
	for _, s := range k.Slots {
		name := gateway.FriendlyName{Type: "text"}
		name.Value.Text, name.Value.Locale = s.Name, "en-US"
		c := gateway.Capability{
			Type: "AlexaInterface", Interface: s.Interface(), Version: "3", Instance: s.Instance,
			CapabilityResources: &gateway.CapabilityResources{FriendlyNames: []gateway.FriendlyName{name}},
			Configuration: &gateway.CapabilityConfig{
				Measurement:   &gateway.MeasurementConfig{Type: string(s.Measure), Unit: string(s.Unit)},
				Replenishment: &gateway.ReplenishmentConfig{Type: "DashReplenishmentId", Value: s.ReplenishmentID},
			},
		}
		if s.Sensor == replenish.SensorLevel {
			c.Properties = &gateway.CapabilityProps{Supported: []gateway.SupportedProperty{{Name: "level"}},
				ProactivelyReported: true, Retrievable: true}
		}
		e.Capabilities = append(e.Capabilities, c)
	}
	return e
}
