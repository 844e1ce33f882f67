package orders_test

import (
	"slices"
	"testing"

	"replenish"
	"replenish/orders"
)

// TestFrom is the table of who may take which step from which state.
func TestFrom(t *testing.T) {
	P, R, S, D, C := replenish.OrderPending, replenish.OrderReleased, replenish.OrderShipped, replenish.OrderDelivered, replenish.OrderCancelled
	for _, c := range []struct {
		to, actor string
		want      []string
	}{
		{R, replenish.ActorService, []string{P}},
		{R, replenish.ActorOperator, nil}, // only the timer releases
		{S, replenish.ActorOperator, []string{R}},
		{S, replenish.ActorFulfilment, []string{R}},
		{S, replenish.ActorCustomer, nil},
		{S, replenish.ActorVendor, nil},
		{D, replenish.ActorOperator, []string{S}},
		{D, replenish.ActorCustomer, nil},
		{C, replenish.ActorCustomer, []string{P}},       // inside the cancellation window only
		{C, replenish.ActorOperator, []string{P, R, S}}, // until delivered
		{C, replenish.ActorService, []string{P, R}},     // a removed device; unresolved
		{C, replenish.ActorVendor, []string{P, R, S}},   // test orders
		{P, replenish.ActorOperator, nil},               // never back
	} {
		if got := orders.From(c.to, c.actor); !slices.Equal(got, c.want) {
			t.Errorf("From(%s, %s) = %v, want %v", c.to, c.actor, got, c.want)
		}
	}
	for _, st := range []string{D, C} {
		for _, to := range []string{P, R, S, D, C} {
			for _, actor := range []string{replenish.ActorCustomer, replenish.ActorOperator, replenish.ActorFulfilment,
				replenish.ActorVendor, replenish.ActorService} {
				if slices.Contains(orders.From(to, actor), st) {
					t.Errorf("%s may move a %s order to %s", actor, st, to)
				}
			}
		}
	}
}
