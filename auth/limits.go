package auth

import (
	"context"
	"math"
	"time"

	"github.com/gatehousehq/gatehouse"
	"github.com/gatehousehq/gatehouse/ent"
)

type clientIPKey struct{}

// WithClientIP returns ctx carrying the caller's address, for throttling.
func WithClientIP(ctx context.Context, ip string) context.Context {
	return context.WithValue(ctx, clientIPKey{}, ip)
}

// ClientIP returns the caller's address stored by WithClientIP.
func ClientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}

// SetThrottle replaces the in-process throttle (Redis on a cluster).
func (s *Service) SetThrottle(t Throttle) { s.throttle = t }

func rateLimited(after time.Duration) error {
	return &gatehouse.Error{Code: gatehouse.ERATELIMITED, Message: "Too many requests", RetryAfter: after}
}

// Throttling defaults, each overridable per tenant in its settings. They
// follow NIST SP 800-63B §5.2.2: back-off per account, never a hard lock an
// attacker could trigger, plus a generous per-address budget against
// credential stuffing.
const (
	defaultIPPerMinute     = 300 // auth attempts per client address per minute
	defaultIPBurst         = 100
	defaultFreeFailures    = 5   // failed logins per account before back-off
	defaultMFAFreeFailures = 10  // wrong MFA codes per identity before back-off
	defaultMaxBackoff      = 900 // seconds; the back-off doubles up to this
	defaultResetsPerHour   = 10  // reset requests per identifier per hour
	failureWindow          = time.Hour
)

// guardAddress spends one token of the caller address's auth budget.
func (s *Service) guardAddress(ctx context.Context, tn *ent.Tenant) error {
	ip := ClientIP(ctx)
	if ip == "" {
		return nil
	}
	l := Limit{Rate: setting(tn, "auth_ip_per_minute", defaultIPPerMinute), Burst: setting(tn, "auth_ip_burst", defaultIPBurst), Period: time.Minute}
	after, err := s.throttle.Allow(ctx, "ip:"+tn.ID+":"+ip, l)
	if err != nil {
		return storeUnavailable(err)
	}
	if after > 0 {
		return rateLimited(after)
	}
	return nil
}

// guardAccount refuses an attempt on an account in back-off: after the free
// failures, each further failure doubles the wait (1 s, 2 s, 4 s … up to the
// maximum), counted from the last failure.
func (s *Service) guardAccount(ctx context.Context, tn *ent.Tenant, key string) error {
	return s.guardAccountAfter(ctx, tn, key, setting(tn, "login_free_failures", defaultFreeFailures))
}

// guardMFA is guardAccount for MFA codes of an identity: a challenge already
// stops after 5 wrong codes, so the back-off starts after two challenges'
// worth of failures.
func (s *Service) guardMFA(ctx context.Context, tn *ent.Tenant, key string) error {
	return s.guardAccountAfter(ctx, tn, key, setting(tn, "mfa_free_failures", defaultMFAFreeFailures))
}

func (s *Service) guardAccountAfter(ctx context.Context, tn *ent.Tenant, key string, free int) error {
	n, last, err := s.throttle.Failures(ctx, "acct:"+tn.ID+":"+key)
	if err != nil {
		return storeUnavailable(err)
	}
	if wait := backoff(n, free, setting(tn, "login_max_backoff_seconds", defaultMaxBackoff)); wait > 0 {
		if left := time.Until(last.Add(wait)); left > 0 {
			return rateLimited(left)
		}
	}
	return nil
}

func backoff(failures, free, maxSeconds int) time.Duration {
	if failures < free {
		return 0
	}
	exp := failures - free
	if exp > 30 {
		exp = 30
	}
	sec := math.Min(math.Pow(2, float64(exp)), float64(maxSeconds))
	return time.Duration(sec * float64(time.Second))
}

func (s *Service) accountFailed(ctx context.Context, tn *ent.Tenant, key string) {
	_, _, _ = s.throttle.Fail(ctx, "acct:"+tn.ID+":"+key, failureWindow)
}

func (s *Service) accountSucceeded(ctx context.Context, tn *ent.Tenant, key string) {
	_ = s.throttle.Reset(ctx, "acct:"+tn.ID+":"+key)
}

// guardResets limits reset requests per identifier, so the outbox (and the
// merchant's mailer) cannot be flooded for one address.
func (s *Service) guardResets(ctx context.Context, tn *ent.Tenant, identifier string) error {
	l := Limit{Rate: setting(tn, "resets_per_hour", defaultResetsPerHour), Burst: setting(tn, "resets_per_hour", defaultResetsPerHour), Period: time.Hour}
	after, err := s.throttle.Allow(ctx, "reset:"+tn.ID+":"+identifier, l)
	if err != nil {
		return storeUnavailable(err)
	}
	if after > 0 {
		return rateLimited(after)
	}
	return nil
}
