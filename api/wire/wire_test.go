package wire

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/google/go-cmp/cmp"

	"github.com/gatehousehq/gatehouse"
)

func TestStatus(t *testing.T) {
	tests := []struct {
		err    error
		status int
		body   ErrorBody
	}{
		{gatehouse.Errorf(gatehouse.EINVALID, "bad"), 400, ErrorBody{Type: "invalid_data", Message: "bad"}},
		{gatehouse.Errorf(gatehouse.ENOTALLOWED, "no"), 400, ErrorBody{Type: "not_allowed", Message: "no"}},
		{gatehouse.Errorf(gatehouse.EUNAUTHORIZED, "Invalid email or password"), 401, ErrorBody{Type: "unauthorized", Message: "Invalid email or password"}},
		{Unauthorized, 401, ErrorBody{Message: "Unauthorized"}},
		{gatehouse.Errorf(gatehouse.EFORBIDDEN, "Forbidden"), 403, ErrorBody{Type: "forbidden", Message: "Forbidden"}},
		{&gatehouse.Error{Code: gatehouse.EFORBIDDEN, Type: "not_allowed", Message: "Tenant is suspended"}, 403, ErrorBody{Type: "not_allowed", Message: "Tenant is suspended"}},
		{gatehouse.Errorf(gatehouse.ENOTFOUND, "gone"), 404, ErrorBody{Type: "not_found", Message: "gone"}},
		{&gatehouse.Error{Code: gatehouse.ECONFLICT}, 409, ErrorBody{Code: "invalid_state_error", Type: "conflict", Message: "The request conflicted with another request. You may retry the request with the provided Idempotency-Key."}},
		{gatehouse.Errorf(gatehouse.EDUPLICATE, "dup"), 422, ErrorBody{Code: "invalid_request_error", Type: "duplicate_error", Message: "dup"}},
		{gatehouse.Errorf(gatehouse.ETOOLARGE, "big"), 413, ErrorBody{Type: "invalid_data", Message: "big"}},
		{gatehouse.Errorf(gatehouse.ERATELIMITED, "whatever"), 429, ErrorBody{Type: "not_allowed", Message: "Too many requests"}},
		{gatehouse.Errorf(gatehouse.EUNAVAILABLE, "down"), 503, ErrorBody{Type: "unavailable", Message: "down"}},
		{gatehouse.Wrap(gatehouse.EINTERNAL, errors.New("secret cause"), "x"), 500, ErrorBody{Code: "unknown_error", Type: "unknown_error", Message: "An unknown error occurred."}},
		{errors.New("database password is hunter2"), 500, ErrorBody{Code: "unknown_error", Type: "unknown_error", Message: "An unknown error occurred."}},
		{fmt.Errorf("wrapped: %w", gatehouse.Errorf(gatehouse.ENOTFOUND, "deep")), 404, ErrorBody{Type: "not_found", Message: "deep"}},
	}
	for _, tt := range tests {
		status, body := Status(tt.err)
		if status != tt.status || !cmp.Equal(body, tt.body) {
			t.Errorf("Status(%v) = %d %+v, want %d %+v", tt.err, status, body, tt.status, tt.body)
		}
	}
}

func render(t *testing.T, ctx context.Context, err error) *httptest.ResponseRecorder {
	t.Helper()
	gin.SetMode(gin.TestMode)
	w := httptest.NewRecorder()
	c, _ := gin.CreateTestContext(w)
	c.Request = httptest.NewRequest("GET", "/", nil).WithContext(ctx)
	Render(c, err)
	return w
}

func TestRender(t *testing.T) {
	w := render(t, context.Background(), &gatehouse.Error{Code: gatehouse.ERATELIMITED, RetryAfter: 1500 * time.Millisecond})
	if w.Code != 429 || w.Header().Get("Retry-After") != "2" {
		t.Errorf("rate limited: %d, Retry-After %q; want 429 and 2", w.Code, w.Header().Get("Retry-After"))
	}
	w = render(t, context.Background(), errors.New("boom: secret"))
	if strings.Contains(w.Body.String(), "secret") || w.Code != 500 {
		t.Errorf("internal error rendered %d %s: the cause must stay internal", w.Code, w.Body)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w = render(t, ctx, fmt.Errorf("find user: %w", context.Canceled))
	if w.Code != 499 || w.Body.Len() != 0 {
		t.Errorf("client gone: %d %q, want 499 and no body", w.Code, w.Body)
	}
}

func TestBind(t *testing.T) {
	type req struct {
		Name  *string        `json:"name"`
		Count int            `json:"count"`
		Meta  map[string]any `json:"metadata"`
	}
	tests := []struct {
		body   string
		length int64
		status int
		msg    string
	}{
		{`{"name":"a","count":2}`, 0, 0, ""},
		{``, 0, 0, ""},
		{`{"name":"a","email":"x","zz":1}`, 0, 400, "Invalid request: Unrecognized fields: 'email, zz'"},
		{`{"count":"two"}`, 0, 400, "Invalid request: Expected type: 'number' for field 'count', got: 'string'"},
		{`{"name":`, 0, 400, "Invalid JSON in request body"},
		{`[1,2]`, 0, 400, "Invalid request: Expected type: 'object' for field 'body', got: 'array'"},
		{`null`, 0, 400, "Invalid request: Expected type: 'object' for field 'body', got: 'null'"},
		{`{"name":"` + strings.Repeat("a", MaxBody) + `"}`, 0, 413, ""},
		{`{}`, MaxBody + 1, 413, ""},
	}
	for _, tt := range tests {
		gin.SetMode(gin.TestMode)
		w := httptest.NewRecorder()
		c, _ := gin.CreateTestContext(w)
		c.Request = httptest.NewRequest("POST", "/", strings.NewReader(tt.body))
		if tt.length > 0 {
			c.Request.ContentLength = tt.length
		}
		var v req
		err := Bind(c, &v)
		status, body := Status(err)
		if err == nil {
			status = 0
		}
		if status != tt.status || (tt.msg != "" && body.Message != tt.msg) {
			t.Errorf("Bind(%.40q) = %d %q, want %d %q", tt.body, status, body.Message, tt.status, tt.msg)
		}
	}
}

func TestListParams(t *testing.T) {
	for q, want := range map[string]string{
		"":                  "0/20",
		"offset=5&limit=10": "5/10",
		"limit=abc":         "Invalid request: Expected type: 'number' for field 'limit', got: 'string'",
		"offset=-1":         "Invalid request: Value for field 'offset' too small, expected at least: '0'",
		"limit=100000":      "Invalid request: Value for field 'limit' too big, expected at most: '1000'",
	} {
		gin.SetMode(gin.TestMode)
		c, _ := gin.CreateTestContext(httptest.NewRecorder())
		c.Request = httptest.NewRequest(http.MethodGet, "/?"+q, nil)
		p, err := ListParams(c, 20)
		got := fmt.Sprintf("%d/%d", p.Offset, p.Limit)
		if err != nil {
			_, b := Status(err)
			got = b.Message
		}
		if got != want {
			t.Errorf("ListParams(%q) = %s, want %s", q, got, want)
		}
	}
}

func queryContext(q string) *gin.Context {
	gin.SetMode(gin.TestMode)
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	c.Request = httptest.NewRequest(http.MethodGet, "/?"+q, nil)
	return c
}

// TestQueryFilters: list filters in the forms clients send (qs, inside the
// js-sdk, writes id[0]=…&id[1]=… and created_at[$gt]=…), and their 400s.
func TestQueryFilters(t *testing.T) {
	for q, want := range map[string]string{
		"":                             "[]",
		"id=a&id=b":                    "[a b]",
		"id%5B%5D=a&id%5B%5D=b":        "[a b]",
		"id%5B1%5D=b&id%5B0%5D=a":      "[a b]",
		"id%5B10%5D=k&id%5B2%5D=c":     "[c k]", // by index, not as text
		"id=a&id%5B0%5D=b&id%5Bx%5D=c": "[a b]", // a named key is not a list element
	} {
		if got := fmt.Sprint(QueryList(queryContext(q), "id")); got != want {
			t.Errorf("QueryList(%q) = %s, want %s", q, got, want)
		}
	}
	for q, want := range map[string]string{
		"":                            "",
		"name=x":                      "x",
		"name%5B0%5D=x":               "x",
		"name=x&name=y":               "Invalid request: Expected type: 'string' for field 'name', got: 'array'",
		"name%5B0%5D=x&name%5B1%5D=y": "Invalid request: Expected type: 'string' for field 'name', got: 'array'",
	} {
		got, err := QueryOne(queryContext(q), "name")
		if err != nil {
			_, b := Status(err)
			got = b.Message
		}
		if got != want {
			t.Errorf("QueryOne(%q) = %q, want %q", q, got, want)
		}
	}
	for q, want := range map[string]string{
		"": "map[]",
		"created_at%5B%24gt%5D=2026-01-02T03%3A04%3A05.678Z": "map[$gt:2026-01-02T03:04:05.678Z]",
		"created_at%5B%24lte%5D=2026-01-02":                  "map[$lte:2026-01-02T00:00:00Z]",
		"created_at=2026-01-02T03%3A04%3A05%2B02%3A00":       "map[$eq:2026-01-02T01:04:05Z]",
		"created_at%5B%24gt%5D=tomorrow":                     "Invalid request: Expected type: 'date' for field 'created_at.$gt', got: 'tomorrow'",
		"created_at%5B%24in%5D=2026-01-02":                   "Invalid request: Unsupported operator '$in' for field 'created_at'",
	} {
		r, err := TimeRange(queryContext(q), "created_at")
		parts := []string{}
		for op, tm := range r {
			parts = append(parts, op+":"+tm.UTC().Format(time.RFC3339Nano))
		}
		got := "map[" + strings.Join(parts, " ") + "]"
		if err != nil {
			_, b := Status(err)
			got = b.Message
		}
		if got != want {
			t.Errorf("TimeRange(%q) = %s, want %s", q, got, want)
		}
	}
}

type sqlStateErr string

func (e sqlStateErr) Error() string    { return "pg: " + string(e) }
func (e sqlStateErr) SQLState() string { return string(e) }

// TestStatusBackendLoss: a lost database connection, however a service
// wrapped it, is 503 unavailable; ordinary driver errors stay 500.
func TestStatusBackendLoss(t *testing.T) {
	for name, tc := range map[string]struct {
		err  error
		want int
	}{
		"refused":           {fmt.Errorf("find user: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), 503},
		"unexpected EOF":    {fmt.Errorf("list: %w", io.ErrUnexpectedEOF), 503},
		"bad conn":          {fmt.Errorf("q: %w", driver.ErrBadConn), 503},
		"admin shutdown":    {fmt.Errorf("count users: %w", sqlStateErr("57P01")), 503},
		"connection class":  {sqlStateErr("08006"), 503},
		"internal wrapping": {gatehouse.Wrap(gatehouse.EINTERNAL, sqlStateErr("08001"), "x"), 503},
		"unique violation":  {fmt.Errorf("create: %w", sqlStateErr("23505")), 500},
		"plain error":       {errors.New("boom"), 500},
		"typed not found":   {gatehouse.Wrap(gatehouse.ENOTFOUND, io.ErrUnexpectedEOF, "gone"), 404},
	} {
		status, body := Status(tc.err)
		if status != tc.want {
			t.Errorf("%s: status %d, want %d", name, status, tc.want)
		}
		if status == 503 && (body.Type != "unavailable" || strings.Contains(body.Message, "pg")) {
			t.Errorf("%s: body %+v, want type unavailable and no driver text", name, body)
		}
	}
}

func TestUnknownParams(t *testing.T) {
	known := map[string]bool{"id": true, "created_at": true, "fields": true}
	for raw, want := range map[string][]string{
		"id=1&fields=x":                       nil,
		"id%5B0%5D=1&created_at%5B%24gt%5D=x": nil,
		"created_at.%24gt=x":                  nil,
		"foo=1&id=2&bar=3&foo=4":              {"foo", "bar"},
		"&&foo":                               {"foo"},
		"%24or%5B0%5D%5Bid%5D=1":              {"$or"},
		"=x&%5B0%5D=y":                        nil,
		"%zz=1":                               {"%zz"},
	} {
		if got := unknownParams(raw, known); !slices.Equal(got, want) {
			t.Errorf("unknownParams(%q) = %q, want %q", raw, got, want)
		}
	}
}

func TestEscapedNUL(t *testing.T) {
	for doc, want := range map[string]bool{
		`{"a":"\u0000"}`:      true,
		`{"a":"x\\u0000"}`:    false, // a backslash, then the text u0000
		`{"a":"x\\\u0000"}`:   true,  // a backslash, then NUL
		`{"a":"\\\\u0000"}`:   false,
		`{"a\u0000":1}`:       true,
		`{"a":"\u00001"}`:     true,
		`{"a":"u0000 \\ \u"}`: false,
		``:                    false,
	} {
		if got := escapedNUL([]byte(doc)); got != want {
			t.Errorf("escapedNUL(%s) = %v, want %v", doc, got, want)
		}
	}
}
