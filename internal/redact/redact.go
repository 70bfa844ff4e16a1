// Package redact owns hiding credentials from what layers prints: the user
// information of every URL in a text becomes "****", as pip shows it.
// Requirement lines, index options and pip's output may carry tokens
// written literally or expanded from the environment; every message,
// log line and document that may quote them goes through Text.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// userInfo matches a URL's scheme and user information anywhere in a
// text. The user information runs to the last "@" before the path, as
// pip's split_auth_from_netloc takes it: a password may hold a literal "@".
var userInfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s]*@`)

// Mask is what stands for hidden credentials.
const Mask = "****"

// references is user information made only of pip's ${NAME} references,
// as messages show expanded values: it names a secret without holding it.
var references = regexp.MustCompile(`^(\$\{[A-Z0-9_]+\}|:)+$`)

// Text replaces the user information of every URL in s with Mask, unless
// it is only ${NAME} references.
func Text(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return userInfo.ReplaceAllStringFunc(s, func(m string) string {
		i := strings.Index(m, "://") + 3
		if references.MatchString(m[i : len(m)-1]) {
			return m
		}
		return m[:i] + Mask + "@"
	})
}

// URL is Text for one URL, also dropping its query, where tokens hide too.
func URL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return Text(s)
	}
	u.RawQuery, u.ForceQuery = "", false
	if u.User == nil {
		return u.String()
	}
	u.User = nil
	out := u.String()
	if i := strings.Index(out, "://"); i >= 0 {
		return out[:i+3] + Mask + "@" + out[i+3:]
	}
	return Text(s)
}
