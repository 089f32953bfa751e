// Package gatehouse holds the one error type every layer returns. It is the
// root of the module and imports nothing of ours, so auth, rbac, tenants and api
// can all speak it (the layout of github.com/benbjohnson/wtf).
package gatehouse

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. Each maps to exactly one HTTP status and Medusa error type in
// api/wire; services choose a code, never a status.
const (
	EINVALID         = "invalid"         // 400 invalid_data
	ENOTALLOWED      = "not_allowed"     // 400 not_allowed
	EUNAUTHORIZED    = "unauthorized"    // 401 {type:"unauthorized",message}
	EUNAUTHENTICATED = "unauthenticated" // 401 {message} (middleware rejection, Medusa's shape)
	EFORBIDDEN       = "forbidden"       // 403 forbidden
	ENOTFOUND        = "not_found"       // 404 not_found
	ECONFLICT        = "conflict"        // 409 conflict
	EDUPLICATE       = "duplicate"       // 422 duplicate_error
	ETOOLARGE        = "too_large"       // 413
	ERATELIMITED     = "rate_limited"    // 429
	EUNAVAILABLE     = "unavailable"     // 503
	EINTERNAL        = "internal"        // 500 unknown_error
)

// Error is a domain error: a code, a message that is safe to show to the
// caller, and the wrapped internal cause, which is logged but never rendered.
type Error struct {
	Code    string
	Message string
	// Type overrides the Medusa error type rendered for the code, for the few
	// places where Medusa pairs a status with an unusual type (a suspended
	// tenant is 403 "not_allowed").
	Type string
	// RetryAfter tells a rate-limited caller when to try again.
	RetryAfter time.Duration
	Err        error
}

// Error implements error. The text includes the cause for logs.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with a formatted user-safe message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error with a user-safe message and an internal cause.
func Wrap(code string, cause error, message string) *Error {
	return &Error{Code: code, Message: message, Err: cause}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL for
// any other non-nil error and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the user-safe message of err, or a generic one.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An unknown error occurred."
}
