package builder

import "strings"

// pipFailure is what pip's output says about why it failed, when it says
// something a person can act on.
type pipFailure int

const (
	pipOther pipFailure = iota
	// pipTLS: pip could not verify the index's certificate, most often
	// behind a proxy that re-signs TLS. pip then also says "No matching
	// distribution found", which must not be taken at its word.
	pipTLS
	// pipNetwork: the index could not be reached (DNS, refused, reset).
	pipNetwork
	// pipUnsatisfiable: pip reached the index and no release satisfies
	// what the input asks: the input's fault.
	pipUnsatisfiable
)

// diagnosePip reads pip's or uv's output (all of it that was kept, not
// only the last lines: the TLS warnings come first).
func diagnosePip(out string) pipFailure {
	switch {
	case strings.Contains(out, "CERTIFICATE_VERIFY_FAILED"), strings.Contains(out, "problem confirming the ssl certificate"),
		strings.Contains(out, "invalid peer certificate"): // uv
		return pipTLS
	case strings.Contains(out, "Could not fetch URL"), strings.Contains(out, "NewConnectionError"),
		strings.Contains(out, "Max retries exceeded"), strings.Contains(out, "Temporary failure in name resolution"),
		strings.Contains(out, "Failed to fetch"), strings.Contains(out, "tcp connect error"), strings.Contains(out, "dns error"): // uv
		return pipNetwork
	case strings.Contains(out, "No matching distribution found"), strings.Contains(out, "ResolutionImpossible"),
		strings.Contains(out, "conflicting dependencies"),
		strings.Contains(out, "No solution found when resolving"): // uv
		return pipUnsatisfiable
	}
	return pipOther
}

// tlsAdvice is the one line that replaces pip's output when it failed on
// TLS verification.
const tlsAdvice = "the installer in the build container could not verify the package index's TLS certificate " +
	"(a proxy that re-signs TLS?): set LAYERS_CA_BUNDLE or [build] ca_bundle to the PEM bundle this machine trusts, " +
	"such as /etc/ssl/certs/ca-certificates.crt"
