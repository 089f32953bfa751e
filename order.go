package gatehouse

import (
	"strings"

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
