package webhooks

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/gatehousehq/gatehouse"
)

// maxURL bounds a webhook URL.
const maxURL = 2048

// cgnat is the carrier-grade NAT range (RFC 6598), not public either.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// public reports whether a is a public unicast address: not loopback,
// private, link-local (cloud metadata lives there), CGNAT, unspecified or
// multicast.
func public(a netip.Addr) bool {
	a = a.Unmap()
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate() && !a.IsLoopback() &&
		!a.IsLinkLocalUnicast() && !cgnat.Contains(a)
}

// checkURL validates a webhook target: an absolute http or https URL with a
// host and no credentials. Unless private targets are allowed, a literal
// non-public address or a localhost name is refused here; names that
// resolve to one are refused when dialled. Errors: invalid.
func checkURL(raw string, allowPrivate bool) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > maxURL {
		return "", gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: url must be an http or https URL of at most %d characters", maxURL)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return "", gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: url must be an http or https URL")
	}
	if u.User != nil {
		return "", gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: url must not contain credentials")
	}
	if u.Fragment != "" {
		return "", gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: url must not contain a fragment")
	}
	if !allowPrivate {
		host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
		if host == "localhost" || strings.HasSuffix(host, ".localhost") {
			return "", errPrivateTarget
		}
		if a, err := netip.ParseAddr(host); err == nil && !public(a) {
			return "", errPrivateTarget
		}
	}
	return u.String(), nil
}

var errPrivateTarget = gatehouse.Errorf(gatehouse.EINVALID, "Invalid request: url must name a public address (loopback and private targets are not allowed)")

// errRefusedAddress is the dial error for a non-public resolved address.
var errRefusedAddress = errors.New("refused non-public address")

// newClient returns the HTTP client deliveries are sent with: no proxy from
// the environment, no redirects (a 3xx is a failed attempt), and, unless
// private targets are allowed, a dialer that refuses non-public addresses
// after name resolution, so a public name that resolves to a private
// address (DNS rebinding) is refused too.
func newClient(allowPrivate bool, timeout time.Duration) *http.Client {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	if !allowPrivate {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !public(ap.Addr()) {
				return errRefusedAddress
			}
			return nil
		}
	}
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   4,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// transportError describes a failed send without the URL (which may carry
// a token in its query) for last_error.
func transportError(err error) string {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() {
		return "timeout"
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	if errors.Is(err, errRefusedAddress) {
		return "refused: the URL resolves to a non-public address"
	}
	msg := err.Error()
	if len(msg) > 300 {
		msg = msg[:300]
	}
	return msg
}
