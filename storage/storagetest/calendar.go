package storagetest

import (
	"context"
	"testing"

	"replenish"
	"replenish/storage"
)

func testCalendarTokens(t *testing.T, s storage.Store) {
	seed(t, s)
	err := tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.CalendarToken(ctx, cust1)
		return err
	})
	wantCode(t, err, replenish.ENotFound, "CalendarToken of a customer without one")
	err = tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, err := tx.CalendarCustomer(ctx, replenish.HashSecret("cal_none"))
		return err
	})
	wantCode(t, err, replenish.ENotFound, "CalendarCustomer of an unknown token")

	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		if err := tx.PutCalendarToken(ctx, cust1, "cal_one", t0); err != nil {
			return err
		}
		return tx.PutCalendarToken(ctx, cust2, "cal_two", t0)
	})
	lookup := func(token string) (string, error) {
		var c string
		err := tryRead(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			c, err = tx.CalendarCustomer(ctx, replenish.HashSecret(token))
			return err
		})
		return c, err
	}
	tokenOf := func(c string) string {
		var token string
		read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			token, err = tx.CalendarToken(ctx, c)
			return err
		})
		return token
	}
	wantEqual(t, "token of c1", tokenOf(cust1), "cal_one")
	got, err := lookup("cal_one")
	wantEqual(t, "customer of cal_one", got, cust1)
	wantCode(t, err, "", "CalendarCustomer of cal_one")
	got, _ = lookup("cal_two")
	wantEqual(t, "customer of cal_two", got, cust2)

	// Rotating replaces the token: the old one names no one.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.PutCalendarToken(ctx, cust1, "cal_one_b", t1)
	})
	wantEqual(t, "token of c1 after rotating", tokenOf(cust1), "cal_one_b")
	_, err = lookup("cal_one")
	wantCode(t, err, replenish.ENotFound, "CalendarCustomer of a rotated-out token")
	got, _ = lookup("cal_one_b")
	wantEqual(t, "customer of the new token", got, cust1)
	got, _ = lookup("cal_two")
	wantEqual(t, "the other customer's token is untouched", got, cust2)
}
