package auth

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/audit"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/apikey"
	"github.com/gatehousehq/gatehouse/ent/predicate"
	"github.com/gatehousehq/gatehouse/ent/saleschannel"
	"github.com/gatehousehq/gatehouse/tenants"
)

// APIKeysChannel announces key revocations and changes: every node drops the
// key from its cache.
const APIKeysChannel = "apikeys:changed"

// Key types.
const (
	KeySecret      = "secret"
	KeyPublishable = "publishable"
)

// cachedKey is what a verified key costs to remember.
type cachedKey struct {
	id, tenantID, typ, createdBy string
	revokedAt                    *time.Time
	channels                     []string
	hasChannels                  bool
	// rateLimit is the key's own budget in requests per minute (0: none).
	rateLimit int
}

// APIKeys mints and verifies secret and publishable keys. A secret key is
// stored only as HMAC-SHA256 under a server pepper, so verification is one
// indexed lookup (or a cache hit) — never a slow hash per request, never a scan.
type APIKeys struct {
	db     *ent.Client
	pepper []byte
	cache  *expirable.LRU[string, *cachedKey] // digest → key
	bus    tenants.Bus
	stop   func()
	now    func() time.Time

	mu       sync.Mutex
	lastUsed map[string]time.Time
	// macs reuses keyed HMAC states: building one costs more than using it.
	macs sync.Pool
	// gen changes on every invalidation: a key read from the database before
	// a change was announced is not cached after it.
	gen atomic.Uint64
}

// NewAPIKeys returns the API-key service.
func NewAPIKeys(db *ent.Client, masterKey []byte, bus tenants.Bus, cacheSize int) (*APIKeys, error) {
	pepper, err := hkdf.Key(sha256.New, masterKey, nil, "gatehouse api key digest v1", 32)
	if err != nil {
		return nil, err
	}
	if cacheSize <= 0 {
		cacheSize = 100000
	}
	// Entries also expire: if an invalidation message is ever lost, a revoked
	// key is refused within a minute at worst.
	k := &APIKeys{db: db, pepper: pepper, bus: bus, now: time.Now, lastUsed: map[string]time.Time{},
		cache: expirable.NewLRU[string, *cachedKey](cacheSize, nil, time.Minute)}
	k.macs.New = func() any { return hmac.New(sha256.New, pepper) }
	return k, nil
}

// Start subscribes to key changes from other nodes.
func (k *APIKeys) Start(ctx context.Context) error {
	if k.bus == nil {
		return nil
	}
	stop, err := k.bus.Subscribe(ctx, APIKeysChannel, func(digest string) {
		k.gen.Add(1)
		if digest == "*" {
			k.cache.Purge()
			return
		}
		k.cache.Remove(digest)
	})
	if err != nil {
		return fmt.Errorf("subscribe to api key changes: %w", err)
	}
	k.stop = stop
	return nil
}

// Close stops the subscription.
func (k *APIKeys) Close() {
	if k.stop != nil {
		k.stop()
	}
}

func (k *APIKeys) digest(raw string) string {
	m := k.macs.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(raw))
	var sum [sha256.Size]byte
	out := hex.EncodeToString(m.Sum(sum[:0]))
	k.macs.Put(m)
	return out
}

func (k *APIKeys) changed(ctx context.Context, digest string) {
	k.gen.Add(1)
	k.cache.Remove(digest)
	if k.bus != nil {
		_ = k.bus.Publish(ctx, APIKeysChannel, digest)
	}
}

// ValidKeyFormat reports whether raw looks like a key of the given prefix:
// the prefix and 64 lower-case hex digits.
func ValidKeyFormat(raw, prefix string) bool {
	if len(raw) != 67 || !strings.HasPrefix(raw, prefix) {
		return false
	}
	for _, r := range raw[3:] {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// Redact returns Medusa's redacted form: first 6 + "***" + last 3.
func Redact(raw string) string {
	if len(raw) < 9 {
		return "***"
	}
	return raw[:6] + "***" + raw[len(raw)-3:]
}

// lookup finds a live key by its raw token: cache, else one indexed query.
func (k *APIKeys) lookup(ctx context.Context, tn *ent.Tenant, raw, typ string) (*cachedKey, error) {
	prefix := "sk_"
	if typ == KeyPublishable {
		prefix = "pk_"
	}
	if !ValidKeyFormat(raw, prefix) {
		return nil, ErrUnauthorized
	}
	d := k.digest(raw)
	// While change messages may be missed, every lookup reads the database.
	fresh := tenants.BusFresh(k.bus)
	var ck *cachedKey
	ok := false
	if fresh {
		ck, ok = k.cache.Get(d)
	}
	if !ok {
		gen := k.gen.Load()
		row, err := k.load(tenants.WithTenant(ctx, tn.ID), d)
		if err != nil {
			return nil, err
		}
		ck = row
		if fresh && k.gen.Load() == gen {
			k.cache.Add(d, ck)
		}
	}
	if ck.tenantID != tn.ID || ck.typ != typ {
		return nil, ErrUnauthorized
	}
	if ck.revokedAt != nil && !ck.revokedAt.After(k.now()) {
		return nil, ErrUnauthorized
	}
	return ck, nil
}

// keyRow is one row of the key-with-channels join.
type keyRow struct {
	ID         string         `sql:"id"`
	TenantID   string         `sql:"tenant_id"`
	Type       string         `sql:"type"`
	CreatedBy  string         `sql:"created_by"`
	RevokedAt  sql.NullTime   `sql:"revoked_at"`
	ChannelID  sql.NullString `sql:"channel_id"`
	ChannelOff sql.NullBool   `sql:"channel_disabled"`
	RateLimit  sql.NullInt64  `sql:"rate_limit"`
}

// load reads a live key by digest with its sales channels in one query (a
// left join through the link table); the tenant interceptor scopes it.
// Disabled channels admit nothing but still limit the key.
func (k *APIKeys) load(ctx context.Context, digest string) (*cachedKey, error) {
	var rows []keyRow
	err := k.db.APIKey.Query().
		Where(apikey.Digest(digest), apikey.DeletedAtIsNil()).
		Modify(func(s *entsql.Selector) {
			link := entsql.Table(apikey.SalesChannelsTable)
			ch := entsql.Table(saleschannel.Table)
			s.LeftJoin(link).On(s.C(apikey.FieldID), link.C(apikey.SalesChannelsPrimaryKey[0])).
				LeftJoin(ch).On(link.C(apikey.SalesChannelsPrimaryKey[1]), ch.C(saleschannel.FieldID))
			s.Select(s.C(apikey.FieldID), s.C(apikey.FieldTenantID), s.C(apikey.FieldType), s.C(apikey.FieldCreatedBy),
				s.C(apikey.FieldRevokedAt), s.C(apikey.FieldRateLimit), entsql.As(ch.C(saleschannel.FieldID), "channel_id"),
				entsql.As(ch.C(saleschannel.FieldIsDisabled), "channel_disabled"))
		}).
		Scan(ctx, &rows)
	if err != nil {
		return nil, gatehouse.Wrap(gatehouse.EUNAVAILABLE, err, "The key directory is unavailable")
	}
	if len(rows) == 0 {
		return nil, ErrUnauthorized
	}
	r := rows[0]
	ck := &cachedKey{id: r.ID, tenantID: r.TenantID, typ: r.Type, createdBy: r.CreatedBy, rateLimit: int(r.RateLimit.Int64)}
	if r.RevokedAt.Valid {
		t := r.RevokedAt.Time
		ck.revokedAt = &t
	}
	for _, row := range rows {
		if !row.ChannelID.Valid {
			continue
		}
		ck.hasChannels = true
		if !row.ChannelOff.Bool {
			ck.channels = append(ck.channels, row.ChannelID.String)
		}
	}
	return ck, nil
}

// touch records last_used_at at most once a minute per key, off the request path.
func (k *APIKeys) touch(tenantID, id string) {
	now := k.now()
	k.mu.Lock()
	if t, ok := k.lastUsed[id]; ok && now.Sub(t) < time.Minute {
		k.mu.Unlock()
		return
	}
	k.lastUsed[id] = now
	if len(k.lastUsed) > 100000 {
		k.lastUsed = map[string]time.Time{id: now}
	}
	k.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(tenants.WithTenant(context.Background(), tenantID), 5*time.Second)
		defer cancel()
		_ = k.db.APIKey.UpdateOneID(id).SetLastUsedAt(now).Exec(ctx)
	}()
}

// keyMarker is the deny-list entry of a revoked key in the auth.Store.
func keyMarker(id string) string { return "apikey:" + id }

// markKeyRevoked puts a revoked key on the shared deny-list. Other nodes may
// still hold the key in their cache until the invalidation message reaches
// them; the deny-list, checked on every request, closes that window. It
// outlives any cache entry loaded before the revocation.
func (s *Service) markKeyRevoked(ctx context.Context, k *ent.APIKey) error {
	if err := s.store.RevokeJTI(ctx, k.TenantID, keyMarker(k.ID), s.now().Add(2*time.Minute+Leeway)); err != nil {
		return storeUnavailable(err)
	}
	return nil
}

// keyRevoked checks the shared deny-list for a key (one store round trip, as
// for a Bearer token). Errors: unauthenticated, unavailable.
func (s *Service) keyRevoked(ctx context.Context, tenantID, id string) error {
	st, err := s.store.Check(ctx, RevocationQuery{TenantID: tenantID, JTI: keyMarker(id)})
	if err != nil {
		return storeUnavailable(err)
	}
	if st.JTIRevoked {
		return errRevoked
	}
	return nil
}

// guardKey spends one request of a key's own per-minute budget, when it has
// one: a token bucket shared by every node (Redis), bursting to the full
// minute's budget. Errors: rate_limited (429 with Retry-After), unavailable.
func (s *Service) guardKey(ctx context.Context, tn *ent.Tenant, ck *cachedKey) error {
	if ck.rateLimit <= 0 {
		return nil
	}
	after, err := s.throttle.Allow(ctx, "key:"+tn.ID+":"+ck.id, Limit{Rate: ck.rateLimit, Burst: ck.rateLimit, Period: time.Minute})
	if err != nil {
		return storeUnavailable(err)
	}
	if after > 0 {
		return rateLimited(after)
	}
	return nil
}

// AuthenticateSecretKey verifies a secret key of tenant tn and returns its
// auth context (actor type "api-key", actor id the key id). Errors:
// unauthenticated, unavailable.
func (s *Service) AuthenticateSecretKey(ctx context.Context, tn *ent.Tenant, raw string) (*Context, error) {
	ck, err := s.apiKeys.lookup(ctx, tn, raw, KeySecret)
	if err != nil {
		return nil, err
	}
	if err := s.keyRevoked(ctx, tn.ID, ck.id); err != nil {
		return nil, err
	}
	if err := s.guardKey(ctx, tn, ck); err != nil {
		return nil, err
	}
	s.apiKeys.touch(tn.ID, ck.id)
	return &Context{
		TenantID: tn.ID, ActorID: ck.id, ActorType: ActorAPIKey, AppMetadata: map[string]any{},
		UserMetadata: map[string]any{}, Method: MethodSecretKey, KeyCreatedBy: ck.createdBy,
		SalesChannels: ck.channels, ChannelLimited: ck.hasChannels,
	}, nil
}

// Publishable is the publishable_key_context of a /store request.
type Publishable struct {
	KeyID           string
	Key             string
	SalesChannelIDs []string
}

type publishableKey struct{}

// NewPublishableContext returns ctx carrying pk.
func NewPublishableContext(ctx context.Context, pk *Publishable) context.Context {
	return context.WithValue(ctx, publishableKey{}, pk)
}

// PublishableFromContext returns the request's publishable key context.
func PublishableFromContext(ctx context.Context) (*Publishable, bool) {
	pk, ok := ctx.Value(publishableKey{}).(*Publishable)
	return pk, ok
}

// AuthenticatePublishableKey verifies a publishable key of tenant tn. A key
// whose every channel is disabled admits nothing. Errors: unauthenticated,
// unavailable.
func (s *Service) AuthenticatePublishableKey(ctx context.Context, tn *ent.Tenant, raw string) (*Publishable, error) {
	ck, err := s.apiKeys.lookup(ctx, tn, raw, KeyPublishable)
	if err != nil {
		return nil, err
	}
	if err := s.keyRevoked(ctx, tn.ID, ck.id); err != nil {
		return nil, err
	}
	if ck.hasChannels && len(ck.channels) == 0 {
		return nil, ErrUnauthorized
	}
	if err := s.guardKey(ctx, tn, ck); err != nil {
		return nil, err
	}
	s.apiKeys.touch(tn.ID, ck.id)
	return &Publishable{KeyID: ck.id, Key: raw, SalesChannelIDs: append([]string(nil), ck.channels...)}, nil
}

// APIKeyFilter selects keys.
type APIKeyFilter struct {
	Q      string
	IDs    []string
	Titles []string // any of these
	// Tokens selects publishable keys by their token (any of these); a
	// secret key's token is never stored, so none matches.
	Tokens  []string
	Type    string
	Dates   gatehouse.Dates
	Revoked *bool
	// RevokedAt compares revoked_at: operators $gt, $gte, $lt, $lte.
	RevokedAt map[string]time.Time
	Order     gatehouse.ListOrder // from APIKeyOrderFields; zero: oldest first
	Offset    int
	Limit     int
}

// APIKeyOrderFields are the fields GET /admin/api-keys sorts by (?order=).
var APIKeyOrderFields = map[string]string{
	"id": apikey.FieldID, "title": apikey.FieldTitle, "type": apikey.FieldType, "redacted": apikey.FieldRedacted,
	"last_used_at": apikey.FieldLastUsedAt, "revoked_at": apikey.FieldRevokedAt,
	"created_at": apikey.FieldCreatedAt, "updated_at": apikey.FieldUpdatedAt,
}

// FindAPIKeys returns a page of the tenant's keys (not deleted) with their
// sales channels, and the total count.
func (s *Service) FindAPIKeys(ctx context.Context, f APIKeyFilter) ([]*ent.APIKey, int, error) {
	q := s.db.APIKey.Query().Where(apikey.DeletedAtIsNil())
	if f.Q != "" {
		q = q.Where(apikey.Or(apikey.TitleContainsFold(f.Q), apikey.RedactedContainsFold(f.Q)))
	}
	if len(f.IDs) > 0 {
		q = q.Where(apikey.IDIn(f.IDs...))
	}
	if len(f.Titles) > 0 {
		q = q.Where(apikey.TitleIn(f.Titles...))
	}
	if len(f.Tokens) > 0 {
		q = q.Where(apikey.TypeEQ(apikey.TypePublishable), apikey.TokenIn(f.Tokens...))
	}
	if f.Type != "" {
		q = q.Where(apikey.TypeEQ(apikey.Type(f.Type)))
	}
	q = q.Where(gatehouse.DatePredicates[predicate.APIKey](f.Dates)...)
	if f.Revoked != nil {
		if *f.Revoked {
			q = q.Where(apikey.RevokedAtNotNil())
		} else {
			q = q.Where(apikey.RevokedAtIsNil())
		}
	}
	for op, t := range f.RevokedAt {
		switch op {
		case "$gt":
			q = q.Where(apikey.RevokedAtGT(t))
		case "$gte":
			q = q.Where(apikey.RevokedAtGTE(t))
		case "$lt":
			q = q.Where(apikey.RevokedAtLT(t))
		case "$lte":
			q = q.Where(apikey.RevokedAtLTE(t))
		default:
			return nil, 0, gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: Unsupported operator '%s' for field 'revoked_at'", op)
		}
	}
	count, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count api keys: %w", err)
	}
	ks, err := q.WithSalesChannels().Order(gatehouse.OrderTerms[apikey.OrderOption](f.Order, ent.Asc(apikey.FieldCreatedAt), ent.Asc(apikey.FieldID))...).Offset(f.Offset).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list api keys: %w", err)
	}
	return ks, count, nil
}

func apiKeyNotFound(id string) error {
	return gatehouse.Errorf(gatehouse.ENOTFOUND, "API Key with id: %s was not found", id)
}

// FindAPIKeyByID returns a key with its sales channels. Errors: not_found.
func (s *Service) FindAPIKeyByID(ctx context.Context, id string) (*ent.APIKey, error) {
	k, err := s.db.APIKey.Query().Where(apikey.ID(id), apikey.DeletedAtIsNil()).WithSalesChannels().Only(ctx)
	if ent.IsNotFound(err) {
		return nil, apiKeyNotFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("find api key: %w", err)
	}
	return k, nil
}

// CreateAPIKeyInput describes a new key.
type CreateAPIKeyInput struct {
	Title           string
	Type            string
	SalesChannelIDs []string // secret keys: partner channel limits (our extension)
	// Roles, for trusted callers without roles of their own (the CLI), are
	// the roles a secret key gets instead of its creator's. Never set from
	// an HTTP request: that path copies the caller's roles.
	Roles []string
	// Narrow (an HTTP request's "roles", nil when absent) gives a new secret
	// key these roles instead of all of its creator's: a partner integration
	// need not act as a super admin. The caller has checked them against the
	// role-assignment guard (the creator holds every policy they grant).
	Narrow []string
	// RateLimit is the key's own limit in requests per minute (nil: none).
	RateLimit *int
}

// MaxKeyRateLimit bounds a key's per-minute budget.
const MaxKeyRateLimit = 1_000_000

func checkRateLimit(n *int) error {
	if n != nil && (*n < 1 || *n > MaxKeyRateLimit) {
		return gatehouse.Errorf(gatehouse.EINVALID, "rate_limit must be between 1 and %d requests per minute (null removes it)", MaxKeyRateLimit)
	}
	return nil
}

// CreateAPIKey mints a key and returns it with the raw token, which for a
// secret key is never shown again. Errors: invalid.
func (s *Service) CreateAPIKey(ctx context.Context, caller *Context, in CreateAPIKeyInput) (*ent.APIKey, string, error) {
	if in.Type != KeySecret && in.Type != KeyPublishable {
		return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: Expected: 'publishable, secret' for field 'type', but got: '%s'", in.Type)
	}
	if err := checkRateLimit(in.RateLimit); err != nil {
		return nil, "", err
	}
	if in.Type != KeySecret && in.Narrow != nil {
		return nil, "", errRolesOnPublishable
	}
	if in.Type == KeySecret && len(in.SalesChannelIDs) > 0 {
		tn, err := tenantOf(ctx)
		if err != nil {
			return nil, "", err
		}
		if !setting(tn, "partner_keys", false) {
			return nil, "", gatehouse.Errorf(gatehouse.EINVALID, "Sales channels can only be associated with publishable API keys")
		}
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, "", err
	}
	prefix := "sk_"
	if in.Type == KeyPublishable {
		prefix = "pk_"
	}
	raw := prefix + hex.EncodeToString(b)
	stored := ""
	if in.Type == KeyPublishable {
		stored = raw
	}
	createdBy := ""
	if caller != nil {
		createdBy = caller.ActorID
	}
	// A secret key acts with its creator's roles (read before the
	// transaction: SQLite has one connection).
	roles := in.Roles
	if in.Type != KeySecret {
		roles = nil
	}
	if sub := subjectOf(caller); in.Type == KeySecret && sub != "" && s.roles.Roles != nil {
		var err error
		if roles, err = s.roles.Roles(ctx, sub); err != nil {
			return nil, "", fmt.Errorf("create api key: %w", err)
		}
		if in.Narrow != nil {
			if len(in.Narrow) == 0 {
				return nil, "", errNoRoles
			}
			roles = slices.Compact(slices.Sorted(slices.Values(in.Narrow)))
		}
	}
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return nil, "", err
	}
	c := tx.APIKey.Create().SetTitle(in.Title).SetType(apikey.Type(in.Type)).SetToken(stored).
		SetDigest(s.apiKeys.digest(raw)).SetRedacted(Redact(raw)).SetCreatedBy(createdBy).SetNillableRateLimit(in.RateLimit)
	if len(in.SalesChannelIDs) > 0 {
		if err := checkChannels(ctx, tx.Client(), in.SalesChannelIDs); err != nil {
			_ = tx.Rollback()
			return nil, "", err
		}
		c.AddSalesChannelIDs(in.SalesChannelIDs...)
	}
	k, err := c.Save(ctx)
	if err != nil {
		_ = tx.Rollback()
		return nil, "", fmt.Errorf("create api key: %w", err)
	}
	if len(roles) > 0 && s.roles.AssignTx != nil {
		if err := s.roles.AssignTx(ctx, tx.Client(), "apikey:"+k.ID, roles); err != nil {
			_ = tx.Rollback()
			return nil, "", fmt.Errorf("create api key: %w", err)
		}
	}
	audit.SetTarget(ctx, k.ID)
	if err := audit.RecordTx(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return nil, "", err
	}
	if err := tx.Commit(); err != nil {
		return nil, "", err
	}
	if len(roles) > 0 {
		s.rolesChanged(ctx)
	}
	return k, raw, nil
}

// errRolesOnPublishable refuses roles for a publishable key, which never
// reaches /admin.
var errRolesOnPublishable = gatehouse.Errorf(gatehouse.EINVALID, "Roles can only be given to secret API keys")

// errNoRoles refuses a key narrowed to no role at all.
var errNoRoles = gatehouse.Errorf(gatehouse.EINVALID, "Field 'roles' must name at least one role (omit it to give the key all of yours)")

func checkChannels(ctx context.Context, db *ent.Client, ids []string) error {
	found, err := db.SalesChannel.Query().Where(saleschannel.IDIn(ids...)).IDs(ctx)
	if err != nil {
		return fmt.Errorf("check sales channels: %w", err)
	}
	have := map[string]bool{}
	for _, id := range found {
		have[id] = true
	}
	var missing []string
	for _, id := range ids {
		if !have[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		return gatehouse.Errorf(gatehouse.EINVALID, "Sales channels with IDs %s do not exist", strings.Join(missing, ", "))
	}
	return nil
}

// UpdateAPIKey changes a key's title. Errors: not_found.
func (s *Service) UpdateAPIKey(ctx context.Context, id string, in UpdateAPIKeyInput) (*ent.APIKey, error) {
	if err := checkRateLimit(in.RateLimit); err != nil {
		return nil, err
	}
	k, err := s.FindAPIKeyByID(ctx, id)
	if err != nil {
		return nil, err
	}
	u := s.db.APIKey.Update().Where(apikey.ID(id), apikey.DeletedAtIsNil())
	if in.Title != nil {
		u.SetTitle(*in.Title)
	}
	if in.SetRateLimit {
		if in.RateLimit == nil {
			u.ClearRateLimit()
		} else {
			u.SetRateLimit(*in.RateLimit)
		}
	}
	n, err := u.Save(ctx)
	if err != nil {
		return nil, fmt.Errorf("update api key: %w", err)
	}
	if n == 0 {
		return nil, apiKeyNotFound(id)
	}
	if in.SetRateLimit {
		s.apiKeys.changed(ctx, k.Digest) // every node reloads the key's limit
	}
	return s.FindAPIKeyByID(ctx, id)
}

// UpdateAPIKeyInput changes a key's title and, when SetRateLimit, its own
// rate limit (nil removes it).
type UpdateAPIKeyInput struct {
	Title        *string
	SetRateLimit bool
	RateLimit    *int
}

// RevokeAPIKey revokes a key now, or in revokeIn seconds. An already revoked
// secret key cannot be revoked again (Medusa). Errors: not_found, invalid.
func (s *Service) RevokeAPIKey(ctx context.Context, caller *Context, id string, revokeIn float64) (*ent.APIKey, error) {
	k, err := s.FindAPIKeyByID(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if k.Type == apikey.TypeSecret && k.RevokedAt != nil && !k.RevokedAt.After(now) {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "There are 1 secret keys that are already revoked.")
	}
	at := now
	if revokeIn > 0 {
		at = now.Add(time.Duration(revokeIn * float64(time.Second)))
	}
	by := ""
	if caller != nil {
		by = caller.ActorID
	}
	tx, err := s.db.Tx(ctx)
	if err != nil {
		return nil, fmt.Errorf("revoke api key: %w", err)
	}
	if err := tx.APIKey.UpdateOne(k).SetRevokedAt(at).SetRevokedBy(by).Exec(ctx); err != nil {
		_ = tx.Rollback()
		return nil, fmt.Errorf("revoke api key: %w", err)
	}
	if err := s.emit(ctx, tx, "api_key.revoked", map[string]any{
		"id": k.ID, "type": string(k.Type), "revoked_at": at.UTC().Format(time.RFC3339Nano), "revoked_by": by,
	}); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := audit.RecordTx(ctx, tx.Client()); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("revoke api key: %w", err)
	}
	if !at.After(now) {
		if err := s.markKeyRevoked(ctx, k); err != nil {
			return nil, err
		}
	}
	s.apiKeys.changed(ctx, k.Digest)
	return s.FindAPIKeyByID(ctx, id)
}

// DeleteAPIKey soft-deletes a revoked key and unlinks its channels. Errors:
// not_found, not_allowed (not revoked yet).
func (s *Service) DeleteAPIKey(ctx context.Context, id string) error {
	k, err := s.FindAPIKeyByID(ctx, id)
	if err != nil {
		return err
	}
	if k.RevokedAt == nil || k.RevokedAt.After(s.now()) {
		return gatehouse.Errorf(gatehouse.ENOTALLOWED, "Cannot delete api keys that are not revoked - %s", id)
	}
	if err := s.db.APIKey.UpdateOne(k).SetDeletedAt(s.now()).ClearSalesChannels().Exec(ctx); err != nil {
		return fmt.Errorf("delete api key: %w", err)
	}
	if err := s.markKeyRevoked(ctx, k); err != nil {
		return err
	}
	s.apiKeys.changed(ctx, k.Digest)
	return nil
}

// LinkSalesChannels adds and removes a key's sales channels. Only publishable
// keys take channels, unless the tenant enables partner_keys, which lets
// secret keys be limited to channels. Errors: not_found, invalid.
func (s *Service) LinkSalesChannels(ctx context.Context, id string, add, remove []string) (*ent.APIKey, error) {
	tn, err := tenantOf(ctx)
	if err != nil {
		return nil, err
	}
	k, err := s.FindAPIKeyByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if k.Type == apikey.TypeSecret && !setting(tn, "partner_keys", false) {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "Sales channels can only be associated with publishable API keys")
	}
	if len(add) > 0 {
		if err := checkChannels(ctx, s.db, add); err != nil {
			return nil, err
		}
	}
	u := s.db.APIKey.UpdateOne(k)
	if len(add) > 0 {
		have := map[string]bool{}
		for _, sc := range k.Edges.SalesChannels {
			have[sc.ID] = true
		}
		for _, id := range add {
			if !have[id] {
				u.AddSalesChannelIDs(id)
				have[id] = true
			}
		}
	}
	if len(remove) > 0 {
		u.RemoveSalesChannelIDs(remove...)
	}
	if err := u.Exec(ctx); err != nil {
		return nil, fmt.Errorf("link sales channels: %w", err)
	}
	s.apiKeys.changed(ctx, k.Digest)
	if k.Type == apikey.TypeSecret {
		// A partner key's channels are part of its authorization.
		s.rolesChanged(ctx)
	}
	return s.FindAPIKeyByID(ctx, id)
}

// ChannelsChanged drops cached keys and the tenant's authorization after a
// sales channel was disabled or deleted, on every node.
func (s *Service) ChannelsChanged(ctx context.Context) {
	s.apiKeys.gen.Add(1)
	s.apiKeys.cache.Purge()
	if s.apiKeys.bus != nil {
		_ = s.apiKeys.bus.Publish(ctx, APIKeysChannel, "*")
	}
	// A disabled or deleted channel no longer admits the partner keys
	// limited to it (their authorization holds their channels).
	s.rolesChanged(ctx)
}

// ScopeChannels narrows a list request's channel ids to those the caller
// holds. ok is false when nothing is left to list.
func ScopeChannels(ac *Context, requested []string) (ids []string, ok bool) {
	if ac == nil || !ac.ChannelLimited {
		return requested, true
	}
	if len(requested) == 0 {
		return ac.SalesChannels, len(ac.SalesChannels) > 0
	}
	held := make(map[string]bool, len(ac.SalesChannels))
	for _, id := range ac.SalesChannels {
		held[id] = true
	}
	for _, id := range requested {
		if held[id] {
			ids = append(ids, id)
		}
	}
	return ids, len(ids) > 0
}
