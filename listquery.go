package gatehouse

import (
	"strings"
	"time"

	"entgo.io/ent/dialect/sql"
)

// ListOrder is the order a client asked a list for (Medusa's ?order=:
// "field" ascending, "-field" descending), checked against the fields the
// list sorts by: Column is the database column. The zero ListOrder is the
// list's own order.
type ListOrder struct {
	Column string
	Desc   bool
}

// ParseListOrder reads value against fields (API field name → column). An
// empty value gives the zero ListOrder; a field the list does not sort by is
// Medusa's 400 "Order field <field> is not valid", as with its allowed
// fields, so no other column name reaches the query.
func ParseListOrder(value string, fields map[string]string) (ListOrder, error) {
	if value == "" {
		return ListOrder{}, nil
	}
	field, desc := strings.CutPrefix(value, "-")
	col, ok := fields[field]
	if !ok {
		return ListOrder{}, Errorf(EINVALID, "Order field %s is not valid", field)
	}
	return ListOrder{Column: col, Desc: desc}, nil
}

// OrderTerms returns o's ordering, then def (the list's own order, which
// also breaks ties, so that pages do not overlap), for an Ent query's Order.
func OrderTerms[T ~func(*sql.Selector)](o ListOrder, def ...T) []T {
	if o.Column == "" {
		return def
	}
	dir := sql.OrderAsc()
	if o.Desc {
		dir = sql.OrderDesc()
	}
	return append([]T{T(sql.OrderByField(o.Column, dir).ToFunc())}, def...)
}

// PageOf returns the page [offset, offset+limit) of xs, for a list filtered
// in memory (nil past its end; offset and limit are not negative).
func PageOf[T any](xs []T, offset, limit int) []T {
	if offset >= len(xs) {
		return nil
	}
	return xs[offset : offset+min(limit, len(xs)-offset)]
}

// TimeRange is a Medusa operator map on a date field of a list query
// (?created_at[$gte]=…): operator ($eq, $gt, $gte, $lt, $lte) → time.
type TimeRange map[string]time.Time

// Dates are the created_at and updated_at operator maps every Medusa list
// takes (each table has both columns).
type Dates struct {
	CreatedAt, UpdatedAt TimeRange
	// DeletedAt matches no listed row: lists never show deleted records
	// (a row's deleted_at is null), so no comparison holds, as in Medusa
	// without with_deleted.
	DeletedAt TimeRange
}

// DatePredicates returns d as predicates of an Ent query's Where. The API
// shows times to the millisecond (as Medusa stores them) while the columns
// keep more, so each operator compares the stored time cut to its
// millisecond: created_at[$gt] of a time the API showed excludes the row
// that showed it.
func DatePredicates[P ~func(*sql.Selector)](d Dates) []P {
	var out []P
	for _, f := range []struct {
		column string
		r      TimeRange
	}{{"created_at", d.CreatedAt}, {"updated_at", d.UpdatedAt}} {
		for op, t := range f.r {
			floor := t.Truncate(time.Millisecond)
			ceil := floor
			if !ceil.Equal(t) {
				ceil = ceil.Add(time.Millisecond)
			}
			next := floor.Add(time.Millisecond)
			var ps []func(*sql.Selector)
			switch op {
			case "$eq":
				if !floor.Equal(t) {
					ps = append(ps, sql.FieldIsNull(f.column)) // no millisecond equals it
				}
				ps = append(ps, sql.FieldGTE(f.column, floor), sql.FieldLT(f.column, next))
			case "$gt":
				ps = append(ps, sql.FieldGTE(f.column, next))
			case "$gte":
				ps = append(ps, sql.FieldGTE(f.column, ceil))
			case "$lt":
				ps = append(ps, sql.FieldLT(f.column, ceil))
			case "$lte":
				ps = append(ps, sql.FieldLT(f.column, next))
			default:
				// The parser admits no other operator; match nothing
				// rather than ignore a filter.
				ps = append(ps, sql.FieldIsNull(f.column))
			}
			for _, p := range ps {
				out = append(out, P(p))
			}
		}
	}
	if len(d.DeletedAt) > 0 {
		out = append(out, P(sql.FieldIsNull("created_at"))) // never null: no row
	}
	return out
}
