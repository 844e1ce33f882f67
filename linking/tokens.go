package linking

import (
	"context"
	"crypto/subtle"
	"time"

	"replenish"
	"replenish/storage"
)

// Lifetimes of what the token endpoint hands out.
const (
	CodeLifetime    = 5 * time.Minute
	AccessLifetime  = time.Hour
	RefreshLifetime = 365 * 24 * time.Hour
)

// OAuth error codes of RFC 6749, section 5.2.
const (
	ErrInvalidRequest       = "invalid_request"
	ErrInvalidClient        = "invalid_client"
	ErrInvalidGrant         = "invalid_grant"
	ErrUnsupportedGrantType = "unsupported_grant_type"
)

// OAuthError is a token endpoint refusal in the shape of RFC 6749.
type OAuthError struct {
	Code        string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

// TokenRequest is the form posted to the token endpoint.
type TokenRequest struct {
	GrantType    string
	Code         string
	RefreshToken string
	ClientID     string
	ClientSecret string
}

// TokenResponse is the token endpoint's answer, as LWA gives it.
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// Token serves the LWA-compatible token endpoint: it exchanges a one-time
// authorization code, or a refresh token (which rotates), for a
// customer-scoped access token and a new refresh token.
func (s *Service) Token(ctx context.Context, in TokenRequest) (TokenResponse, error) {
	var kind, secret string
	switch in.GrantType {
	case "authorization_code":
		kind, secret = storage.GrantCode, in.Code
	case "refresh_token":
		kind, secret = storage.GrantRefresh, in.RefreshToken
	case "":
		return TokenResponse{}, &OAuthError{ErrInvalidRequest, "grant_type is required"}
	default:
		return TokenResponse{}, &OAuthError{ErrUnsupportedGrantType, "grant_type must be authorization_code or refresh_token"}
	}
	if in.ClientID == "" || in.ClientSecret == "" {
		return TokenResponse{}, &OAuthError{ErrInvalidClient, "client_id and client_secret are required"}
	}
	if secret == "" {
		return TokenResponse{}, &OAuthError{ErrInvalidRequest, map[string]string{
			storage.GrantCode: "code is required", storage.GrantRefresh: "refresh_token is required"}[kind]}
	}
	var out TokenResponse
	now := s.now()
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		v, hash, err := tx.VendorByClientID(ctx, in.ClientID)
		if err != nil || subtle.ConstantTimeCompare(hash, replenish.HashSecret(in.ClientSecret)) != 1 {
			if err == nil || replenish.ErrorCode(err) == replenish.ENotFound {
				return &OAuthError{ErrInvalidClient, "unknown client or wrong secret"}
			}
			return err
		}
		g, err := tx.TakeGrant(ctx, replenish.HashSecret(secret), kind, now)
		if replenish.ErrorCode(err) == replenish.ENotFound || (err == nil && g.VendorCode != v.Code) {
			// A grant of another client is as unknown as no grant, and
			// taking it in a transaction that then rolls back changes nothing.
			return &OAuthError{ErrInvalidGrant, "the " + map[string]string{storage.GrantCode: "code",
				storage.GrantRefresh: "refresh token"}[kind] + " is unknown, expired or already used"}
		}
		if err != nil {
			return err
		}
		out, err = issueTokens(ctx, tx, g.VendorCode, g.CustomerID, now)
		return err
	})
	return out, err
}

// issueTokens creates an access token and a refresh token.
func issueTokens(ctx context.Context, tx storage.Tx, vendorCode, customerID string, now time.Time) (TokenResponse, error) {
	out := TokenResponse{AccessToken: replenish.NewSecret("Atza|"), RefreshToken: replenish.NewSecret("Atzr|"),
		TokenType: "bearer", ExpiresIn: int(AccessLifetime / time.Second)}
	for _, g := range []storage.Grant{
		{Hash: replenish.HashSecret(out.AccessToken), Kind: storage.GrantAccess, ExpiresAt: now.Add(AccessLifetime)},
		{Hash: replenish.HashSecret(out.RefreshToken), Kind: storage.GrantRefresh, ExpiresAt: now.Add(RefreshLifetime)},
	} {
		g.VendorCode, g.CustomerID = vendorCode, customerID
		if err := tx.InsertGrant(ctx, g); err != nil {
			return out, err
		}
	}
	return out, nil
}
