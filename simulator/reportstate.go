package simulator

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"time"

	"replenish"
	"replenish/gateway"
)

// reportState answers an Alexa ReportState directive as a vendor's cloud
// does when reading a device takes a while: a DeferredResponse at once,
// then, in the background, a StateReport with the device's levels to the
// event gateway, naming the directive's correlation token.
func (c *Cloud) reportState(w http.ResponseWriter, h gateway.Header, endpoint *gateway.EndpointRef) {
	if endpoint == nil || endpoint.Scope == nil {
		http.Error(w, "ReportState without endpoint.scope", http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	a := c.accounts[c.accountKey(endpoint.Scope.Token)]
	c.mu.Unlock()
	var d *Device
	if a != nil {
		for _, x := range a.Devices {
			if x.EndpointID == endpoint.EndpointID {
				d = x
			}
		}
	}
	if d == nil {
		answer(w, "Alexa", "ErrorResponse", h, map[string]string{"type": "NO_SUCH_ENDPOINT",
			"message": "no device " + endpoint.EndpointID + " for this customer"})
		return
	}
	answer(w, "Alexa", "DeferredResponse", h, map[string]int{"estimatedDeferralInSeconds": 1})
	c.reports.Go(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.sendStateReport(ctx, a, d, h.CorrelationToken); err != nil {
			c.cfg.Log.Warn("state report failed", "endpoint", d.EndpointID, "err", err)
		}
	})
}

// WaitForStateReports returns once the StateReports being sent have been
// answered (or have given up, after 30 s).
func (c *Cloud) WaitForStateReports() { c.reports.Wait() }

// sendStateReport posts the levels of d's level sensors, sampled now, to
// the gateway as the StateReport answering the ReportState of
// correlationToken.
func (c *Cloud) sendStateReport(ctx context.Context, a *Account, d *Device, correlationToken string) error {
	token, err := a.token(ctx, c.cfg)
	if err != nil {
		return err
	}
	at := stamp(time.Now())
	props := []map[string]any{}
	levels := d.levels() // the fleet moves the device on meanwhile
	for i, s := range d.Kind.Slots {
		if s.Sensor != replenish.SensorLevel {
			continue
		}
		value := map[string]any{"@type": string(s.Measure), "value": math.Round(levels[i])}
		if s.Unit != "" {
			value["unit"] = string(s.Unit)
		}
		props = append(props, map[string]any{"namespace": gateway.LevelSensor, "instance": s.Instance, "name": "level",
			"value": value, "timeOfSample": at, "uncertaintyInMilliseconds": 0})
	}
	body, err := json.Marshal(map[string]any{
		"event": map[string]any{
			"header": gateway.Header{Namespace: "Alexa", Name: "StateReport", PayloadVersion: "3",
				MessageID: replenish.NewUUID(), CorrelationToken: correlationToken},
			"endpoint": gateway.EndpointRef{Scope: &gateway.Scope{Type: "BearerToken", Token: token}, EndpointID: d.EndpointID},
			"payload":  map[string]any{},
		},
		"context": map[string]any{"properties": props},
	})
	if err != nil {
		return err
	}
	m := message{name: "StateReport", token: token, body: body}
	if st := c.cfg.Stats; st != nil {
		c.deliver(ctx, m, false, st)
		st.update(func(s *Summary) { s.StateReports++ })
		return nil
	}
	_, _, _, err = c.send(ctx, m)
	return err
}
