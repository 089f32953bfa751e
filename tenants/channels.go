package tenants

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/ent"
	"github.com/gatehousehq/gatehouse/ent/apikey"
	"github.com/gatehousehq/gatehouse/ent/predicate"
	"github.com/gatehousehq/gatehouse/ent/saleschannel"
)

// Channels manages the sales channels of a tenant (Medusa's sc_). Every method
// works on the tenant in its context: the TenantMixin interceptor and hook
// scope each query and mutation, so a channel of another tenant is not_found
// by construction, and a context without a tenant fails with ErrNoTenant.
type Channels struct {
	db *ent.Client
}

// NewChannels returns the sales channel service over db.
func NewChannels(db *ent.Client) *Channels { return &Channels{db: db} }

// ChannelFilter selects sales channels. Zero fields do not filter.
type ChannelFilter struct {
	Q     string   // case-insensitive substring of the name or description
	IDs   []string // any of these ids
	Names []string // any of these names
	// Description is an exact description (nil: any).
	Description *string
	// PublishableKeyIDs selects the channels linked to any of these
	// publishable keys.
	PublishableKeyIDs []string
	// LocationIDs selects the channels linked to any of these stock
	// locations: Gatehouse keeps no locations, so a non-nil list matches none.
	LocationIDs []string
	IsDisabled  *bool
	Dates       gatehouse.Dates
	Order       gatehouse.ListOrder // from ChannelOrderFields; zero: oldest first
	Offset      int
	Limit       int // page size; 0 returns no channels, only the count
}

// ChannelOrderFields are the fields GET /admin/sales-channels sorts by
// (?order=).
var ChannelOrderFields = map[string]string{
	"id": saleschannel.FieldID, "name": saleschannel.FieldName, "description": saleschannel.FieldDescription,
	"is_disabled": saleschannel.FieldIsDisabled, "created_at": saleschannel.FieldCreatedAt, "updated_at": saleschannel.FieldUpdatedAt,
}

// ChannelInput creates or changes a sales channel. On update, a nil pointer
// leaves the field as it is. Description and Metadata can be cleared: set
// DescriptionSet or MetadataSet with a nil value.
type ChannelInput struct {
	Name           *string
	Description    *string
	DescriptionSet bool // Description was given, possibly as null
	IsDisabled     *bool
	Metadata       map[string]any
	MetadataSet    bool // Metadata was given, possibly as null
}

// withKeys loads the channel's live publishable keys, which Medusa shows as
// publishable_api_keys. Secret keys are never listed.
func withKeys(q *ent.SalesChannelQuery) *ent.SalesChannelQuery {
	return q.WithAPIKeys(func(k *ent.APIKeyQuery) {
		k.Where(apikey.TypeEQ(apikey.TypePublishable), apikey.DeletedAtIsNil()).
			Order(ent.Asc(apikey.FieldCreatedAt), ent.Asc(apikey.FieldID))
	})
}

// FindChannels returns a page of the tenant's sales channels, oldest first,
// with their publishable keys, and the number of channels matching f.
func (s *Channels) FindChannels(ctx context.Context, f ChannelFilter) ([]*ent.SalesChannel, int, error) {
	var where []predicate.SalesChannel
	if q := strings.TrimSpace(f.Q); q != "" {
		where = append(where, saleschannel.Or(saleschannel.NameContainsFold(q), saleschannel.DescriptionContainsFold(q)))
	}
	if f.IDs != nil {
		where = append(where, saleschannel.IDIn(f.IDs...))
	}
	if len(f.Names) > 0 {
		where = append(where, saleschannel.NameIn(f.Names...))
	}
	if f.Description != nil {
		where = append(where, saleschannel.DescriptionEQ(*f.Description))
	}
	if f.PublishableKeyIDs != nil {
		where = append(where, saleschannel.HasAPIKeysWith(apikey.IDIn(f.PublishableKeyIDs...),
			apikey.TypeEQ(apikey.TypePublishable), apikey.DeletedAtIsNil()))
	}
	if f.LocationIDs != nil {
		where = append(where, saleschannel.IDIn()) // no locations: no channel
	}
	if f.IsDisabled != nil {
		where = append(where, saleschannel.IsDisabledEQ(*f.IsDisabled))
	}
	where = append(where, gatehouse.DatePredicates[predicate.SalesChannel](f.Dates)...)
	q := s.db.SalesChannel.Query().Where(where...)
	count, err := q.Clone().Count(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("count sales channels: %w", err)
	}
	if f.Limit <= 0 || f.Offset >= count {
		return []*ent.SalesChannel{}, count, nil
	}
	chs, err := withKeys(q).
		Order(gatehouse.OrderTerms[saleschannel.OrderOption](f.Order, ent.Asc(saleschannel.FieldCreatedAt), ent.Asc(saleschannel.FieldID))...).
		Offset(f.Offset).Limit(f.Limit).All(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list sales channels: %w", err)
	}
	return chs, count, nil
}

// FindChannelByID returns the sales channel with its publishable keys.
// Errors: not_found.
func (s *Channels) FindChannelByID(ctx context.Context, id string) (*ent.SalesChannel, error) {
	ch, err := withKeys(s.db.SalesChannel.Query().Where(saleschannel.ID(id))).Only(ctx)
	if ent.IsNotFound(err) {
		return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "Sales channel with id: %s not found", id)
	}
	if err != nil {
		return nil, fmt.Errorf("find sales channel: %w", err)
	}
	return ch, nil
}

// CreateChannel makes a sales channel in the tenant of ctx. Errors: invalid
// (no name).
func (s *Channels) CreateChannel(ctx context.Context, in ChannelInput) (*ent.SalesChannel, error) {
	if in.Name == nil {
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: Field 'name' is required")
	}
	if err := validName(*in.Name); err != nil {
		return nil, err
	}
	c := s.db.SalesChannel.Create().SetName(*in.Name).SetNillableDescription(in.Description)
	if in.IsDisabled != nil {
		c.SetIsDisabled(*in.IsDisabled)
	}
	if in.Metadata != nil {
		c.SetMetadata(in.Metadata)
	}
	ch, err := c.Save(ctx)
	if err != nil {
		return nil, channelErr("create sales channel", err)
	}
	// A new channel has no keys; the empty edge keeps responses uniform.
	ch.Edges.APIKeys = []*ent.APIKey{}
	return ch, nil
}

// UpdateChannel changes a sales channel and returns it with its publishable
// keys. Errors: not_found, invalid (empty name).
func (s *Channels) UpdateChannel(ctx context.Context, id string, in ChannelInput) (*ent.SalesChannel, error) {
	u := s.db.SalesChannel.UpdateOneID(id)
	if in.Name != nil {
		if err := validName(*in.Name); err != nil {
			return nil, err
		}
		u.SetName(*in.Name)
	}
	switch {
	case in.Description != nil:
		u.SetDescription(*in.Description)
	case in.DescriptionSet:
		u.ClearDescription()
	}
	if in.IsDisabled != nil {
		u.SetIsDisabled(*in.IsDisabled)
	}
	switch {
	case in.Metadata != nil:
		u.SetMetadata(in.Metadata)
	case in.MetadataSet:
		u.ClearMetadata()
	}
	if _, err := u.Save(ctx); err != nil {
		if ent.IsNotFound(err) {
			return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "Sales channel with id \"%s\" not found", id)
		}
		return nil, channelErr("update sales channel", err)
	}
	ch, err := s.FindChannelByID(ctx, id)
	if err != nil {
		if gatehouse.ErrorCode(err) == gatehouse.ENOTFOUND {
			// Deleted between the update and the read.
			return nil, gatehouse.Errorf(gatehouse.ENOTFOUND, "Sales channel with id \"%s\" not found", id)
		}
		return nil, err
	}
	return ch, nil
}

// DeleteChannel deletes a sales channel and its links to API keys.
// Errors: not_found.
func (s *Channels) DeleteChannel(ctx context.Context, id string) error {
	err := s.db.SalesChannel.DeleteOneID(id).Exec(ctx)
	if ent.IsNotFound(err) {
		return gatehouse.Errorf(gatehouse.ENOTFOUND, "Sales channel with id: %s not found", id)
	}
	if err != nil {
		return fmt.Errorf("delete sales channel: %w", err)
	}
	return nil
}

func validName(name string) error {
	if name == "" {
		return gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: Value for field 'name' too small, expected at least: '1'")
	}
	return nil
}

// channelErr translates Ent's validation errors (which the checks above
// should already have caught) and wraps anything else as internal.
func channelErr(op string, err error) error {
	var ve *ent.ValidationError
	if errors.As(err, &ve) {
		return gatehouse.Wrap(gatehouse.EINVALID, err, fmt.Sprintf("Invalid request: Invalid value for field '%s'", ve.Name))
	}
	return fmt.Errorf("%s: %w", op, err)
}
