package sqldb

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"replenish"
	"replenish/storage"
)

// Home Assistant bridges.

const homeAssistantCols = `customer_id, enabled, broker_url, username, password, discovery_prefix, generation,
	updated_at, state, since, last_error, next_attempt_at, published, embedded, account, account_hash`

func scanHomeAssistant(row interface{ Scan(...any) error }) (replenish.HomeAssistant, error) {
	var h replenish.HomeAssistant
	var enabled, embedded int
	var updated, since int64
	var next sql.NullInt64
	var published string
	err := row.Scan(&h.CustomerID, &enabled, &h.BrokerURL, &h.Username, &h.Password, &h.DiscoveryPrefix,
		&h.Generation, &updated, &h.Status.State, &since, &h.Status.LastError, &next, &published,
		&embedded, &h.Account, &h.AccountHash)
	if err != nil {
		return h, err
	}
	h.Enabled, h.Embedded = enabled == 1, embedded == 1
	h.UpdatedAt, h.Status.Since = time.UnixMicro(updated).UTC(), time.UnixMicro(since).UTC()
	h.Status.NextAttemptAt = fromMicros(next)
	if published != "" {
		h.Published = strings.Split(published, "\n")
	}
	return h, nil
}

func (t *tx) HomeAssistant(ctx context.Context, customerID string) (replenish.HomeAssistant, error) {
	h, err := scanHomeAssistant(t.tx.QueryRowContext(ctx, `SELECT `+homeAssistantCols+`
		FROM homeassistant_bridges WHERE customer_id = ?`, customerID))
	if err != nil {
		return h, notFound(err, "Home Assistant bridge of "+customerID)
	}
	return h, nil
}

func (t *tx) HomeAssistantAccount(ctx context.Context, account string) (replenish.HomeAssistant, error) {
	h, err := scanHomeAssistant(t.tx.QueryRowContext(ctx, `SELECT `+homeAssistantCols+`
		FROM homeassistant_bridges WHERE account = ? AND account <> ''`, account))
	if err != nil {
		return h, notFound(err, "Home Assistant account "+account)
	}
	return h, nil
}

func (t *tx) PutHomeAssistant(ctx context.Context, h replenish.HomeAssistant, now time.Time) error {
	_, err := t.exec(ctx, "Home Assistant bridge", `INSERT INTO homeassistant_bridges
			(customer_id, enabled, broker_url, username, password, discovery_prefix, generation, updated_at,
			 state, since, last_error, next_attempt_at, published, owner, lease_until, embedded, account, account_hash)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?, '', '', 0, ?, ?, ?)
		ON CONFLICT (customer_id) DO UPDATE SET enabled = excluded.enabled, broker_url = excluded.broker_url,
			username = excluded.username, password = excluded.password,
			discovery_prefix = excluded.discovery_prefix, generation = homeassistant_bridges.generation + 1,
			updated_at = excluded.updated_at, state = excluded.state, since = excluded.since,
			last_error = excluded.last_error, next_attempt_at = excluded.next_attempt_at,
			embedded = excluded.embedded, account = excluded.account, account_hash = excluded.account_hash`,
		h.CustomerID, boolInt(h.Enabled), h.BrokerURL, h.Username, h.Password, h.DiscoveryPrefix, now.UnixMicro(),
		h.Status.State, h.Status.Since.UnixMicro(), h.Status.LastError, micros(h.Status.NextAttemptAt),
		boolInt(h.Embedded), h.Account, h.AccountHash)
	return err
}

func (t *tx) HomeAssistantBridges(ctx context.Context) ([]replenish.HomeAssistant, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT `+homeAssistantCols+` FROM homeassistant_bridges
		WHERE enabled = 1 OR state <> ? ORDER BY customer_id`, replenish.BridgeOff)
	if err != nil {
		return nil, err
	}
	return collect(rows, scanHomeAssistant)
}

func (t *tx) ClaimHomeAssistant(ctx context.Context, customerID, owner string, now, until time.Time) (bool, error) {
	res, err := t.exec(ctx, "Home Assistant lease", `UPDATE homeassistant_bridges SET owner = ?, lease_until = ?
		WHERE customer_id = ? AND (owner = ? OR lease_until < ?)`,
		owner, until.UnixMicro(), customerID, owner, now.UnixMicro())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *tx) ReleaseHomeAssistant(ctx context.Context, customerID, owner string) error {
	_, err := t.exec(ctx, "Home Assistant lease", `UPDATE homeassistant_bridges SET lease_until = 0
		WHERE customer_id = ? AND owner = ?`, customerID, owner)
	return err
}

func (t *tx) SetHomeAssistantStatus(ctx context.Context, owner string, h replenish.HomeAssistant) error {
	res, err := t.exec(ctx, "Home Assistant bridge", `UPDATE homeassistant_bridges SET published = ?
		WHERE customer_id = ? AND owner = ?`, strings.Join(h.Published, "\n"), h.CustomerID, owner)
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		if err == nil {
			err = replenish.Errorf(replenish.EConflict, "the Home Assistant bridge of %s is not %s's", h.CustomerID, owner)
		}
		return err
	}
	_, err = t.exec(ctx, "Home Assistant bridge", `UPDATE homeassistant_bridges
		SET state = ?, since = ?, last_error = ?, next_attempt_at = ?
		WHERE customer_id = ? AND owner = ? AND generation = ?`,
		h.Status.State, h.Status.Since.UnixMicro(), h.Status.LastError, micros(h.Status.NextAttemptAt),
		h.CustomerID, owner, h.Generation)
	return err
}

var _ storage.HomeAssistant = (*tx)(nil)
