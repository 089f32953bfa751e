package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/gatehousehq/gatehouse"
)

// MaxBody is the largest request body accepted (1 MiB).
const MaxBody = 1 << 20

// Validator is implemented by request types with rules beyond their JSON
// types; Validate returns a *gatehouse.Error with code invalid.
type Validator interface{ Validate() error }

// Invalid returns Medusa's 400 for a request that fails validation.
func Invalid(format string, args ...any) error {
	return gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: "+format, args...)
}

// Bind reads the JSON object body into v strictly, as Medusa's zod schemas do:
// unknown fields, wrong types and malformed JSON are 400s; a body over MaxBody
// is 413. An empty body is an empty object.
func Bind(c *gin.Context, v any) error {
	body, err := readBody(c)
	if err != nil {
		return err
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		body = []byte("{}")
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(body, &fields); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) || (len(body) > 0 && body[0] != '{') && json.Valid(body) {
			return Invalid("Expected type: 'object' for field 'body', got: '%s'", JSONKind(body))
		}
		return gatehouse.Errorf(gatehouse.EINVALID, "Invalid JSON in request body")
	}
	if fields == nil {
		return Invalid("Expected type: 'object' for field 'body', got: 'null'")
	}
	known := jsonFields(reflect.TypeOf(v))
	var unknown []string
	for k := range fields {
		if !known[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return Invalid("Unrecognized fields: '%s'", strings.Join(unknown, ", "))
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(v); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return Invalid("Expected type: '%s' for field '%s', got: '%s'", goKind(typeErr.Type), typeErr.Field, typeErr.Value)
		}
		return gatehouse.Errorf(gatehouse.EINVALID, "Invalid JSON in request body")
	}
	if val, ok := v.(Validator); ok {
		return val.Validate()
	}
	return nil
}

func readBody(c *gin.Context) ([]byte, error) {
	if c.Request.Body == nil {
		return nil, nil
	}
	if c.Request.ContentLength > MaxBody {
		return nil, gatehouse.Errorf(gatehouse.ETOOLARGE, "Request body too large (at most %d bytes)", MaxBody)
	}
	r := http.MaxBytesReader(c.Writer, c.Request.Body, MaxBody)
	b, err := io.ReadAll(r)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, gatehouse.Errorf(gatehouse.ETOOLARGE, "Request body too large (at most %d bytes)", MaxBody)
		}
		return nil, gatehouse.Errorf(gatehouse.EINVALID, "Could not read the request body")
	}
	return b, nil
}

var fieldCache sync.Map // reflect.Type → map[string]bool

func jsonFields(t reflect.Type) map[string]bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]bool)
	}
	m := map[string]bool{}
	if t.Kind() == reflect.Struct {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := f.Tag.Get("json")
			name, _, _ := strings.Cut(tag, ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = f.Name
			}
			m[name] = true
		}
	}
	fieldCache.Store(t, m)
	return m
}

func goKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		return "array"
	default:
		return "object"
	}
}

// JSONKind names the JSON type of a raw value as Medusa's zod errors do
// ("got: 'string'"); "undefined" when it is absent.
func JSONKind(b []byte) string {
	if len(b) == 0 {
		return "undefined"
	}
	switch b[0] {
	case '[':
		return "array"
	case '{':
		return "object"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	default:
		return "number"
	}
}

// Page holds list parameters.
type Page struct {
	Offset int
	Limit  int
	Q      string              // SortedListParams only: free-text search
	Order  gatehouse.ListOrder // SortedListParams only
	Dates  gatehouse.Dates     // SortedListParams only
}

// MaxLimit bounds list page sizes.
const MaxLimit = 1000

// ListParams reads offset and limit (default def) from the query string.
func ListParams(c *gin.Context, def int) (Page, error) {
	p := Page{Limit: def}
	for _, f := range []struct {
		name string
		dst  *int
	}{{"offset", &p.Offset}, {"limit", &p.Limit}} {
		vs := QueryList(c, f.name)
		if len(vs) > 1 {
			return p, Invalid("Expected type: 'number' for field '%s', got: 'array'", f.name)
		}
		if len(vs) == 0 || vs[0] == "" {
			continue
		}
		s := vs[0]
		var n int
		if _, err := fmt.Sscanf(s, "%d", &n); err != nil || fmt.Sprint(n) != strings.TrimLeft(s, "+") {
			return p, Invalid("Expected type: 'number' for field '%s', got: 'string'", f.name)
		}
		if n < 0 {
			return p, Invalid("Value for field '%s' too small, expected at least: '0'", f.name)
		}
		*f.dst = n
	}
	if p.Limit > MaxLimit {
		return p, Invalid("Value for field 'limit' too big, expected at most: '%d'", MaxLimit)
	}
	return p, nil
}

// SortedListParams is ListParams for a Medusa list that sorts by fields
// (API name → column): it also reads ?q=, ?order= ("field" or "-field"; a
// field not in fields is a 400, as in Medusa), the created_at, updated_at
// and deleted_at operator maps and with_deleted. Each takes one value:
// several are a 400, as in Medusa.
func SortedListParams(c *gin.Context, def int, fields map[string]string) (Page, error) {
	p, err := ListParams(c, def)
	if err != nil {
		return p, err
	}
	if p.Q, err = QueryOne(c, "q"); err != nil {
		return p, err
	}
	order, err := QueryOne(c, "order")
	if err != nil {
		return p, err
	}
	if p.Order, err = gatehouse.ParseListOrder(order, fields); err != nil {
		return p, err
	}
	if p.Dates.CreatedAt, err = TimeRange(c, "created_at"); err != nil {
		return p, err
	}
	if p.Dates.UpdatedAt, err = TimeRange(c, "updated_at"); err != nil {
		return p, err
	}
	if p.Dates.DeletedAt, err = TimeRange(c, "deleted_at"); err != nil {
		return p, err
	}
	// with_deleted is accepted as Medusa's boolean; deleted records are
	// never listed here.
	if v, ok := c.GetQuery("with_deleted"); ok && v != "true" && v != "false" {
		return p, Invalid("Expected type: 'boolean' for field 'with_deleted', got: 'string'")
	}
	return p, nil
}

// QueryList returns the values of a list filter in every form clients send
// it: ?id=a&id=b, ?id[]=a, and ?id[0]=a&id[1]=b (how qs, inside the js-sdk,
// writes arrays), in that order; nil when absent.
func QueryList(c *gin.Context, key string) []string {
	out := append(c.QueryArray(key), c.QueryArray(key+"[]")...)
	indexed := c.QueryMap(key)
	idx := make([]int, 0, len(indexed))
	for k := range indexed {
		if n, err := strconv.Atoi(k); err == nil && n >= 0 {
			idx = append(idx, n)
		}
	}
	sort.Ints(idx)
	for _, n := range idx {
		out = append(out, indexed[strconv.Itoa(n)])
	}
	return out
}

// QueryOne returns the value of a filter that takes one value, given as
// ?key=v or as a one-element array; several values are a 400 rather than a
// filter silently dropped.
func QueryOne(c *gin.Context, key string) (string, error) {
	vs := QueryList(c, key)
	switch len(vs) {
	case 0:
		return "", nil
	case 1:
		return vs[0], nil
	}
	return "", Invalid("Expected type: 'string' for field '%s', got: 'array'", key)
}

// QueryOnes is QueryOne for several keys: their values by key.
func QueryOnes(c *gin.Context, keys ...string) (map[string]string, error) {
	out := make(map[string]string, len(keys))
	for _, k := range keys {
		v, err := QueryOne(c, k)
		if err != nil {
			return nil, err
		}
		out[k] = v
	}
	return out, nil
}

// TimeRange reads the operator map of a date field (?field[$gte]=…; $eq,
// $gt, $gte, $lt, $lte), or ?field=<date> as $eq. Dates are RFC 3339 or
// YYYY-MM-DD (midnight UTC). Anything else is a 400: a filter is never
// ignored.
func TimeRange(c *gin.Context, field string) (gatehouse.TimeRange, error) {
	var r gatehouse.TimeRange
	set := func(op, v string) error {
		t, err := Date(field, op, v)
		if err != nil {
			return err
		}
		if r == nil {
			r = gatehouse.TimeRange{}
		}
		r[op] = t
		return nil
	}
	if v, ok := c.GetQuery(field); ok {
		if err := set("$eq", v); err != nil {
			return nil, err
		}
	}
	for op, v := range c.QueryMap(field) {
		switch op {
		case "$eq", "$gt", "$gte", "$lt", "$lte":
			if err := set(op, v); err != nil {
				return nil, err
			}
		default:
			return nil, Invalid("Unsupported operator '%s' for field '%s'", op, field)
		}
	}
	return r, nil
}

// Date reads the value of operator op of a date filter: RFC 3339, or
// YYYY-MM-DD (midnight UTC); anything else is a 400.
func Date(field, op, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		if t, err = time.Parse(time.DateOnly, v); err != nil {
			return t, Invalid("Expected type: 'date' for field '%s.%s', got: '%s'", field, op, v)
		}
	}
	return t, nil
}

// Deleted is Medusa's delete response.
type Deleted struct {
	ID      string `json:"id"`
	Object  string `json:"object"`
	Deleted bool   `json:"deleted"`
}

// BearerToken returns the token of an "Authorization: Bearer …" header
// value (scheme matched case-insensitively, as Medusa does), or "".
func BearerToken(h string) string {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok || !strings.EqualFold(scheme, "bearer") {
		return ""
	}
	return strings.TrimSpace(tok)
}
