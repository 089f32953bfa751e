package wire

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/gin-gonic/gin"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/gatehousehq/gatehouse"
)

// ErrorBody is Medusa's error shape. Code and Type are omitted when empty:
// the middleware 401 is exactly {"message":"Unauthorized"}.
type ErrorBody struct {
	Code    string `json:"code,omitempty"`
	Type    string `json:"type,omitempty"`
	Message string `json:"message"`
}

const unknownMessage = "An unknown error occurred."

// Status maps err to its HTTP status and body. It is the only place where
// errors become statuses; TestStatus pins the table.
func Status(err error) (int, ErrorBody) {
	var e *gatehouse.Error
	typed := errors.As(err, &e)
	if (!typed || e.Code == gatehouse.EINTERNAL) && unreachable(err) {
		// A lost database (or other backend) connection is an outage to
		// retry, not a bug: 503, whichever service wrapped it.
		return http.StatusServiceUnavailable, ErrorBody{Type: "unavailable", Message: unavailableMessage}
	}
	if !typed {
		return http.StatusInternalServerError, ErrorBody{Code: "unknown_error", Type: "unknown_error", Message: unknownMessage}
	}
	typ := func(def string) string {
		if e.Type != "" {
			return e.Type
		}
		return def
	}
	switch e.Code {
	case gatehouse.EINVALID:
		return http.StatusBadRequest, ErrorBody{Type: typ("invalid_data"), Message: e.Message}
	case gatehouse.ENOTALLOWED:
		return http.StatusBadRequest, ErrorBody{Type: typ("not_allowed"), Message: e.Message}
	case gatehouse.EUNAUTHORIZED:
		return http.StatusUnauthorized, ErrorBody{Type: typ("unauthorized"), Message: e.Message}
	case gatehouse.EUNAUTHENTICATED:
		return http.StatusUnauthorized, ErrorBody{Type: e.Type, Message: e.Message}
	case gatehouse.EFORBIDDEN:
		return http.StatusForbidden, ErrorBody{Type: typ("forbidden"), Message: e.Message}
	case gatehouse.ENOTFOUND:
		return http.StatusNotFound, ErrorBody{Type: typ("not_found"), Message: e.Message}
	case gatehouse.ECONFLICT:
		msg := e.Message
		if msg == "" {
			msg = "The request conflicted with another request. You may retry the request with the provided Idempotency-Key."
		}
		return http.StatusConflict, ErrorBody{Code: "invalid_state_error", Type: typ("conflict"), Message: msg}
	case gatehouse.EDUPLICATE:
		return http.StatusUnprocessableEntity, ErrorBody{Code: "invalid_request_error", Type: typ("duplicate_error"), Message: e.Message}
	case gatehouse.ETOOLARGE:
		return http.StatusRequestEntityTooLarge, ErrorBody{Type: typ("invalid_data"), Message: e.Message}
	case gatehouse.ERATELIMITED:
		return http.StatusTooManyRequests, ErrorBody{Type: typ("not_allowed"), Message: "Too many requests"}
	case gatehouse.EUNAVAILABLE:
		return http.StatusServiceUnavailable, ErrorBody{Type: typ("unavailable"), Message: e.Message}
	default:
		return http.StatusInternalServerError, ErrorBody{Code: "unknown_error", Type: "unknown_error", Message: unknownMessage}
	}
}

// SetLogger makes Render log through l for this request.
func SetLogger(c *gin.Context, l *slog.Logger) { c.Set("wire.logger", l) }

// Render writes err as a Medusa error response and aborts the chain. Internal
// errors and unavailability are logged with their cause and mark the span;
// the caller only sees the generic message.
func Render(c *gin.Context, err error) {
	if errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil {
		// The client went away: nobody reads the answer, and it is not a
		// server error (nginx's 499).
		c.AbortWithStatus(499)
		return
	}
	status, body := Status(err)
	if status >= 500 {
		if l, ok := c.Get("wire.logger"); ok {
			l.(*slog.Logger).ErrorContext(c.Request.Context(), "request failed",
				slog.Int("status", status), slog.String("error", err.Error()))
		}
		span := trace.SpanFromContext(c.Request.Context())
		span.SetStatus(codes.Error, body.Message)
		span.RecordError(err)
	}
	if c.Writer.Written() {
		c.Abort()
		return
	}
	var ge *gatehouse.Error
	if errors.As(err, &ge) && ge.RetryAfter > 0 {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(ge.RetryAfter.Seconds()))))
	}
	c.AbortWithStatusJSON(status, body)
}

// H adapts a handler that returns an error (caddy's style) to Gin: handlers
// never choose an error status themselves.
func H(fn func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := fn(c); err != nil {
			Render(c, err)
		}
	}
}

// Unauthorized is the middleware rejection, exactly Medusa's body.
var Unauthorized = &gatehouse.Error{Code: gatehouse.EUNAUTHENTICATED, Message: "Unauthorized"}

// AuthSpec is what a route accepts as authentication, Medusa's
// authenticate(actorTypes, authTypes, options).
type AuthSpec struct {
	Actors            []string // permitted actor types; "*" permits all
	Bearer            bool
	Session           bool
	APIKey            bool // secret keys (only with Actors = [user])
	AllowUnregistered bool // a token with an identity but no actor yet
	Optional          bool // continue anonymously instead of 401
	SkipMFA           bool // do not require a completed MFA challenge
}

const unavailableMessage = "The service is temporarily unavailable, try again shortly"

// unreachable reports whether err is a backend connection failure: refused
// or reset connections, a server that went away mid-query (PostgreSQL
// SQLSTATE class 08 and 57P01-57P03), or a driver's bad connection. Drivers
// are recognised by the interfaces their errors implement, so this package
// imports none of them.
func unreachable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, sql.ErrConnDone) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	var op *net.OpError
	if errors.As(err, &op) {
		return true
	}
	var state interface{ SQLState() string }
	if errors.As(err, &state) {
		code := state.SQLState()
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03"
	}
	var retry interface{ SafeToRetry() bool }
	return errors.As(err, &retry) && retry.SafeToRetry()
}
