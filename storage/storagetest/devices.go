package storagetest

import (
	"context"
	"testing"
	"time"

	"replenish"
	"replenish/storage"
)

func testDevices(t *testing.T, s storage.Store) {
	seed(t, s)
	dev := func(id, serial string) replenish.Device {
		return replenish.Device{DeviceID: id, VendorCode: vendorA, ModelID: modelID, SerialNumber: serial, CreatedAt: t0}
	}
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(
			tx.InsertDevice(ctx, dev("d2", "SN-2"), []byte("pw2"), []byte("claim2")),
			tx.InsertDevice(ctx, dev("d1", "SN-1"), []byte("pw1"), []byte("claim1")),
		)
	})
	err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertDevice(ctx, dev("d3", "SN-1"), []byte("pw3"), []byte("claim3"))
	})
	wantCode(t, err, replenish.EConflict, "a serial number the model has already")
	err = tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertDevice(ctx, dev("d3", "SN-3"), []byte("pw3"), []byte("claim1"))
	})
	wantCode(t, err, replenish.EConflict, "a claim code another device has")

	get := func(id string) (replenish.Device, []byte) {
		var d replenish.Device
		var hash []byte
		read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			d, hash, err = tx.Device(ctx, id)
			return err
		})
		return d, hash
	}
	d1, hash := get("d1")
	wantEqual(t, "d1", d1, dev("d1", "SN-1"))
	wantEqual(t, "d1's password hash", string(hash), "pw1")
	err = tryRead(t, s, func(ctx context.Context, tx storage.Tx) error {
		_, _, err := tx.Device(ctx, "nope")
		return err
	})
	wantCode(t, err, replenish.ENotFound, "Device of an unknown ID")
	var list []replenish.Device
	read(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
		list, err = tx.Devices(ctx, vendorA, modelID)
		return err
	})
	wantEqual(t, "devices by serial", []string{list[0].SerialNumber, list[1].SerialNumber}, []string{"SN-1", "SN-2"})

	claim := func(code, cust string) (replenish.Device, error) {
		var d replenish.Device
		err := tryWrite(t, s, func(ctx context.Context, tx storage.Tx) (err error) {
			d, err = tx.ClaimDevice(ctx, []byte(code), cust, t1)
			return err
		})
		return d, err
	}
	_, err = claim("claim-wrong", cust1)
	wantCode(t, err, replenish.ENotFound, "a wrong claim code")
	got, err := claim("claim1", cust1)
	wantCode(t, err, "", "claiming d1")
	wantEqual(t, "claimed device", [3]any{got.DeviceID, got.CustomerID, got.ClaimedAt}, [3]any{"d1", cust1, t1})
	_, err = claim("claim1", cust2)
	wantCode(t, err, replenish.ENotFound, "a claim code used once already")

	// Released, the device is nobody's, and only a new code claims it.
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.ReleaseDevice(ctx, "d1") })
	d1, _ = get("d1")
	wantEqual(t, "released device's customer", d1.CustomerID, "")
	err = tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.ReleaseDevice(ctx, "d1") })
	wantCode(t, err, replenish.ENotFound, "releasing a device nobody holds")
	_, err = claim("claim1", cust2)
	wantCode(t, err, replenish.ENotFound, "the spent code after release")
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetClaimCode(ctx, "d1", []byte("claim1b")) })
	got, err = claim("claim1b", cust2)
	wantCode(t, err, "", "claiming with the new code")
	wantEqual(t, "new owner", got.CustomerID, cust2)

	// Seen: the newest time wins, connectivity "" keeps what was there.
	t2 := t1.Add(time.Minute)
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return first(
			tx.SetDeviceSeen(ctx, "d2", replenish.ConnectivityOnline, t2),
			tx.SetDeviceSeen(ctx, "d2", "", t1),
		)
	})
	d2, _ := get("d2")
	wantEqual(t, "seen", [2]any{d2.LastSeenAt, d2.Connectivity}, [2]any{t2, replenish.ConnectivityOnline})
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.SetDeviceSeen(ctx, "d2", replenish.ConnectivityOffline, t2.Add(time.Second))
	})
	d2, _ = get("d2")
	wantEqual(t, "offline", [2]any{d2.LastSeenAt, d2.Connectivity}, [2]any{t2.Add(time.Second), replenish.ConnectivityOffline})

	// Revoked: its code is gone, it cannot be revoked twice or get a new code.
	write(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.RevokeDevice(ctx, "d2", t2) })
	d2, _ = get("d2")
	wantEqual(t, "revoked at", d2.RevokedAt, t2)
	_, err = claim("claim2", cust1)
	wantCode(t, err, replenish.ENotFound, "the code of a revoked device")
	err = tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.RevokeDevice(ctx, "d2", t2) })
	wantCode(t, err, replenish.ENotFound, "revoking twice")
	err = tryWrite(t, s, func(ctx context.Context, tx storage.Tx) error { return tx.SetClaimCode(ctx, "d2", []byte("x")) })
	wantCode(t, err, replenish.ENotFound, "a new code for a revoked device")
	// Its serial number may name a new device.
	write(t, s, func(ctx context.Context, tx storage.Tx) error {
		return tx.InsertDevice(ctx, dev("d4", "SN-2"), []byte("pw4"), []byte("claim4"))
	})
}
