package console

import (
	"context"

	"replenish"
	"replenish/storage"
)

// A vendor's credentials: the client secret for Replenish's token
// endpoint, and its API keys. New secrets are shown once and stored
// hashed.

// ClientSecret is a rotated token-endpoint client secret, shown once.
type ClientSecret struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// RotateClientSecret gives a vendor a new client secret for the token
// endpoint; the old one stops working at once.
func (s *Service) RotateClientSecret(ctx context.Context, vendorCode string) (ClientSecret, error) {
	cs := ClientSecret{ClientSecret: replenish.NewSecret("rcs_")}
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		v, err := tx.Vendor(ctx, vendorCode)
		if err != nil {
			return err
		}
		cs.ClientID = v.ClientID
		return tx.SetClientSecret(ctx, vendorCode, replenish.HashSecret(cs.ClientSecret))
	})
	return cs, err
}

// NewAPIKey is a created API key, shown once.
type NewAPIKey struct {
	replenish.APIKey
	Key string `json:"apiKey"`
}

// CreateAPIKey gives a vendor another API key.
func (s *Service) CreateAPIKey(ctx context.Context, vendorCode string) (NewAPIKey, error) {
	key := replenish.NewSecret("rk_v_")
	var out NewAPIKey
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		if _, err := tx.Vendor(ctx, vendorCode); err != nil {
			return err
		}
		if err := tx.InsertAPIKey(ctx, replenish.HashSecret(key), replenish.Principal{Role: replenish.RoleVendor, VendorCode: vendorCode}, s.now()); err != nil {
			return err
		}
		p, err := tx.PrincipalByKey(ctx, replenish.HashSecret(key))
		if err != nil {
			return err
		}
		out = NewAPIKey{APIKey: replenish.APIKey{KeyID: p.KeyID, CreatedAt: s.now()}, Key: key}
		return nil
	})
	return out, err
}

// APIKeys lists a vendor's API keys, without the keys.
func (s *Service) APIKeys(ctx context.Context, vendorCode string) (ks []replenish.APIKey, err error) {
	err = s.store.Read(ctx, func(tx storage.Tx) error {
		ks, err = tx.APIKeys(ctx, vendorCode)
		return err
	})
	return ks, err
}

// RevokeAPIKey revokes one of a vendor's API keys, but never the last:
// a vendor without a key could not reach the API to make a new one.
func (s *Service) RevokeAPIKey(ctx context.Context, vendorCode, keyID string) error {
	return s.store.Write(ctx, func(tx storage.Tx) error {
		ks, err := tx.APIKeys(ctx, vendorCode)
		if err != nil {
			return err
		}
		if len(ks) == 1 && ks[0].KeyID == keyID {
			return replenish.Errorf(replenish.EConflict, "key %s is the vendor's last API key: create another before revoking it", keyID)
		}
		return tx.DeleteAPIKey(ctx, vendorCode, keyID)
	})
}
