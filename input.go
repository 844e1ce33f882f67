package replenish

import (
	"net"
	"net/url"
	"time"
)

// Earliest is the earliest time the service accepts from outside (a
// sample, an installed part): an earlier one comes from a clock that was
// never set.
var Earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// WebURLProblem says what is wrong with a URL that Replenish sends
// requests to (a vendor's skill endpoint or webhook, a customer's
// webhook): it must be absolute https, or http on a loopback address,
// without credentials or a fragment. It returns "" for a good one.
func WebURLProblem(s string) string {
	u, err := url.Parse(s)
	switch {
	case err != nil || u.Host == "" || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https"):
		return "must be an absolute https URL, such as https://example.com/alexa"
	case u.User != nil:
		return "must not carry a user name or password"
	case u.Fragment != "":
		return "must not have a #fragment"
	case u.Scheme == "http" && !IsLoopback(u.Hostname()):
		return "must be https (http only for localhost or a loopback address)"
	}
	return ""
}

// IsLoopback reports whether host is localhost or a loopback address.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
