// Package linking is Replenish's authorization server and directive
// client: it links a customer's account with a vendor (AcceptGrant, then
// Discover), runs the LWA-compatible token endpoint, and signs every
// directive it sends to a vendor's skill endpoint.
package linking

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"replenish"
	"replenish/gateway"
	"replenish/signing"
	"replenish/storage"
)

// Service links accounts and issues tokens.
type Service struct {
	store   storage.Store
	gateway *gateway.Service
	client  *http.Client
	log     *slog.Logger
	now     func() time.Time
	// callbackURL is where vendors send the customer's browser back: the
	// redirect_uri of every sign-in at a vendor's authorization page.
	callbackURL string

	// refreshing serialises refreshes of vendors' tokens: refresh tokens
	// rotate, so two refreshes of the same one would lose the link.
	refreshing sync.Mutex
}

// New returns a Service. client sends directives and calls vendors' token
// URLs; its timeout bounds how long a vendor's cloud may keep a customer
// waiting. baseURL is Replenish's public URL, which vendors redirect
// customers' browsers back to.
func New(store storage.Store, gw *gateway.Service, client *http.Client, log *slog.Logger, now func() time.Time, baseURL string) *Service {
	return &Service{store: store, gateway: gw, client: client, log: log, now: now,
		callbackURL: strings.TrimSuffix(baseURL, "/") + CallbackPath}
}

// Link starts linking a customer's account with a vendor. A vendor with
// an OAuth authorization URL signs the customer in first: the link comes
// back PENDING with the URL to send the customer's browser to, and
// Finish completes it. Any other vendor is linked at once.
func (s *Service) Link(ctx context.Context, customerID, vendorCode string) (replenish.Link, error) {
	var v replenish.Vendor
	err := s.store.Read(ctx, func(tx storage.Tx) error {
		var err error
		v, err = tx.Vendor(ctx, vendorCode)
		return err
	})
	if err != nil {
		return replenish.Link{}, err
	}
	if v.Settings.SkillEndpointURL == "" {
		return replenish.Link{}, replenish.Errorf(replenish.EConflict, "vendor %s has no skill endpoint yet, so it cannot be linked", vendorCode)
	}
	if v.Settings.OAuthAuthorizationURL != "" {
		return s.begin(ctx, v, customerID)
	}
	// Without the vendor's own sign-in, the grantee token is ours: an
	// opaque name for the customer that only this vendor learns.
	return s.complete(ctx, v, customerID, replenish.Link{GranteeToken: replenish.NewSecret("rg_")}, true)
}

// complete links a customer whose grantee token is known: it creates a
// one-time authorization code and sends it to the vendor's skill
// endpoint in an AcceptGrant directive, then asks for the customer's
// devices with a Discover directive and stores them. grantee carries the
// grantee token (and the vendor's refresh token and expiry, if any); when
// minted is set the token is Replenish's own, and a customer linked
// already keeps theirs. No transaction is held while the vendor is
// called, since the vendor calls back into the token endpoint.
func (s *Service) complete(ctx context.Context, v replenish.Vendor, customerID string, grantee replenish.Link, minted bool) (replenish.Link, error) {
	link := replenish.Link{CustomerID: customerID, VendorCode: v.Code, Status: replenish.LinkPending,
		GranteeToken: grantee.GranteeToken, GranteeRefresh: grantee.GranteeRefresh,
		GranteeExpiresAt: grantee.GranteeExpiresAt, UpdatedAt: s.now()}
	var wasLinked bool
	code := replenish.NewSecret("ANcode")
	err := s.store.Write(ctx, func(tx storage.Tx) error {
		old, err := tx.Link(ctx, customerID, v.Code)
		wasLinked = err == nil && old.Status == replenish.LinkLinked
		switch {
		case wasLinked && minted:
			// Linking again (to find new devices, say) keeps the link.
			link.GranteeToken = old.GranteeToken
		case !wasLinked:
			if err := tx.PutLink(ctx, link); err != nil {
				return err
			}
		}
		return tx.InsertGrant(ctx, storage.Grant{Hash: replenish.HashSecret(code), Kind: storage.GrantCode,
			VendorCode: v.Code, CustomerID: customerID, ExpiresAt: link.UpdatedAt.Add(CodeLifetime)})
	})
	if err != nil {
		return link, err
	}

	linkErr := s.acceptGrant(ctx, v, code, link.GranteeToken)
	if linkErr == nil {
		linkErr = s.discover(ctx, v, customerID, link.GranteeToken)
	}
	link.Status, link.UpdatedAt = replenish.LinkLinked, s.now()
	if linkErr != nil {
		link.Status = replenish.LinkFailed
	}
	// The outcome is recorded even when the customer went away while the
	// vendor was called: a link must not stay PENDING with live tokens.
	ctx = context.WithoutCancel(ctx)
	err = s.store.Write(ctx, func(tx storage.Tx) error {
		switch {
		case linkErr == nil:
			if err := tx.PutLink(ctx, link); err != nil {
				return err
			}
		case !wasLinked:
			// Tokens the vendor got for a link that failed are of no use.
			if err := tx.PutLink(ctx, link); err != nil {
				return err
			}
			if err := tx.RevokeGrants(ctx, v.Code, customerID, s.now()); err != nil {
				return err
			}
		default:
			// A failed attempt to link again voids its own code and
			// leaves the working link, and its grantee token, alone.
			_, err := tx.TakeGrant(ctx, replenish.HashSecret(code), storage.GrantCode, s.now())
			if err != nil && replenish.ErrorCode(err) != replenish.ENotFound {
				return err
			}
		}
		var err error
		link, err = tx.Link(ctx, customerID, v.Code)
		return err
	})
	if err != nil {
		return link, err
	}
	return link, linkErr
}

// Unlink ends a customer's link with a vendor, at the customer's wish or
// the vendor's: its tokens stop working, later events with them are
// refused as from a disabled skill, and the vendor's own tokens for the
// customer are forgotten.
func (s *Service) Unlink(ctx context.Context, customerID, vendorCode string) error {
	return s.store.Write(ctx, func(tx storage.Tx) error {
		l, err := tx.Link(ctx, customerID, vendorCode)
		if err != nil {
			return err
		}
		l.Status, l.UpdatedAt = replenish.LinkUnlinked, s.now()
		l.GranteeToken, l.GranteeRefresh, l.GranteeExpiresAt = "", "", time.Time{}
		if err := tx.PutLink(ctx, l); err != nil {
			return err
		}
		if err := tx.RevokeGrants(ctx, vendorCode, customerID, s.now()); err != nil {
			return err
		}
		return s.gateway.Unlinked(ctx, tx, customerID, vendorCode, s.now())
	})
}

func (s *Service) acceptGrant(ctx context.Context, v replenish.Vendor, code, grantee string) error {
	payload := map[string]any{
		"grant":   map[string]string{"type": "OAuth2.AuthorizationCode", "code": code},
		"grantee": map[string]string{"type": "BearerToken", "token": grantee},
	}
	var resp gateway.Message
	if err := s.send(ctx, v, "Alexa.Authorization", "AcceptGrant", nil, payload, &resp); err != nil {
		return err
	}
	if resp.Event == nil {
		return vendorErr(v, "answered AcceptGrant without an event", nil)
	}
	h := resp.Event.Header
	if h.Namespace == "Alexa.Authorization" && h.Name == "AcceptGrant.Response" {
		return nil
	}
	var p struct {
		Type    string `json:"type"`
		Message string `json:"message"`
	}
	json.Unmarshal(resp.Event.Payload, &p)
	return vendorErr(v, fmt.Sprintf("refused the grant (%s %s: %s %s)", h.Namespace, h.Name, p.Type, p.Message), nil)
}

// discover asks the vendor for the customer's devices and stores them. A
// device description that Replenish refuses is the vendor's fault, not
// the customer's, and is reported as such.
func (s *Service) discover(ctx context.Context, v replenish.Vendor, customerID, grantee string) error {
	payload := map[string]any{"scope": map[string]string{"type": "BearerToken", "token": grantee}}
	var resp gateway.Message
	if err := s.send(ctx, v, "Alexa.Discovery", "Discover", nil, payload, &resp); err != nil {
		return err
	}
	if resp.Event == nil || resp.Event.Header.Name != "Discover.Response" {
		return vendorErr(v, "did not answer Discover with Discover.Response", nil)
	}
	var p gateway.DiscoveryPayload
	if err := json.Unmarshal(resp.Event.Payload, &p); err != nil {
		return vendorErr(v, "sent a Discover.Response that does not decode", err)
	}
	err := s.gateway.PutEndpoints(ctx, v.Code, customerID, "Discover.Response.payload.endpoints", p.Endpoints)
	var e *replenish.Error
	if errors.As(err, &e) && (e.Code == replenish.EInvalid || e.Code == replenish.EForbidden) {
		return vendorErr(v, "described the customer's devices in a way Replenish refuses: "+e.Message, err)
	}
	return err
}

// Retries of a directive: transport failures and 5xx answers are tried
// again after a pause that doubles.
const (
	directiveAttempts = 3
	directiveBackoff  = 200 * time.Millisecond
)

// send posts a signed directive to the vendor's skill endpoint and decodes
// the synchronous answer into out.
func (s *Service) send(ctx context.Context, v replenish.Vendor, namespace, name string, endpoint *gateway.EndpointRef, payload, out any) error {
	body, err := json.Marshal(gateway.Message{Directive: &gateway.Directive{
		Header: gateway.Header{Namespace: namespace, Name: name, PayloadVersion: "3",
			MessageID: replenish.NewUUID(), CorrelationToken: replenish.NewUUID()},
		Endpoint: endpoint, Payload: payload,
	}})
	if err != nil {
		return err
	}
	for attempt, pause := 1, directiveBackoff; ; attempt, pause = attempt+1, pause*2 {
		retry, err := s.post(ctx, v, body, out)
		if err == nil || !retry || attempt == directiveAttempts {
			return err
		}
		s.log.Warn("directive failed", "vendor", v.Code, "directive", name, "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

func (s *Service) post(ctx context.Context, v replenish.Vendor, body []byte, out any) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.Settings.SkillEndpointURL, bytes.NewReader(body))
	if err != nil {
		return false, vendorErr(v, "has a skill endpoint URL that cannot be used", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(signing.Header, signing.Sign(v.SigningSecret, s.now(), body))
	resp, err := s.client.Do(req)
	if err != nil {
		return true, vendorErr(v, "did not answer", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return true, vendorErr(v, "broke off its answer", err)
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode >= 500, vendorErr(v, fmt.Sprintf("answered HTTP %d", resp.StatusCode), nil)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return false, vendorErr(v, "answered with JSON that does not decode", err)
	}
	return false, nil
}

func vendorErr(v replenish.Vendor, what string, cause error) error {
	return &replenish.Error{Code: replenish.EVendor, Message: "the skill endpoint of vendor " + v.Code + " " + what, Err: cause}
}
