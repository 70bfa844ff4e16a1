// Package pyindex asks a Python package index which files a project has,
// through the JSON form of the simple repository API (PEP 691). layers
// asks only when a message needs it: which newer or older release has a
// wheel a Lambda runtime loads, or what a pinned requirement's release
// ships when no lock lists its files.
package pyindex

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/layers-dev/layers/internal/pep440"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/internal/redact"
	"github.com/layers-dev/layers/internal/wheeltag"
)

// accept asks for PEP 691's JSON; an index that only has HTML answers
// with HTML, which Files refuses.
const accept = "application/vnd.pypi.simple.v1+json"

// maxBody bounds a project page: the largest projects list tens of
// thousands of files in a few MB.
const maxBody = 64 << 20

// File is one file of a project on the index.
type File struct {
	Filename       string
	RequiresPython string
	Yanked         bool
}

// Client asks one index.
type Client struct {
	base string // the simple API's root, ending in "/"
	http *http.Client
}

// New returns a client of the index whose simple API root is indexURL
// (what pip's --index-url names); caBundle, when set, is the PEM bundle
// its TLS certificate is checked against instead of the system's.
func New(indexURL string, caBundle []byte) (*Client, error) {
	u, err := url.Parse(indexURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("index URL %s is not an http(s) URL", redact.URL(indexURL))
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if len(caBundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(caBundle) {
			return nil, errors.New("the CA bundle holds no PEM certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &Client{base: strings.TrimSuffix(indexURL, "/") + "/", http: &http.Client{Transport: tr, Timeout: 20 * time.Second}}, nil
}

// Files returns the files the index lists for project. The index URL's
// credentials, if any, are sent as basic authentication and never show in
// an error.
func (c *Client) Files(ctx context.Context, project string) ([]File, error) {
	u := c.base + pep508.NormalizeName(project) + "/"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("ask the index for %s: %s", project, redact.Text(err.Error()))
	}
	req.Header.Set("Accept", accept)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask the index for %s: %s", project, redact.Text(err.Error()))
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("ask the index for %s: %s answered %s", project, redact.URL(u), resp.Status)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, accept) && !strings.HasPrefix(ct, "application/json") {
		return nil, fmt.Errorf("ask the index for %s: %s answered %q, not the JSON simple API (PEP 691)", project, redact.URL(u), ct)
	}
	return decode(io.LimitReader(resp.Body, maxBody))
}

// decode reads a PEP 691 project page.
func decode(r io.Reader) ([]File, error) {
	var page struct {
		Files []struct {
			Filename       string          `json:"filename"`
			RequiresPython *string         `json:"requires-python"`
			Yanked         json.RawMessage `json:"yanked"`
		} `json:"files"`
	}
	if err := json.NewDecoder(r).Decode(&page); err != nil {
		return nil, fmt.Errorf("read the index's project page: %w", err)
	}
	out := make([]File, 0, len(page.Files))
	for _, f := range page.Files {
		file := File{Filename: f.Filename}
		if f.RequiresPython != nil {
			file.RequiresPython = *f.RequiresPython
		}
		// yanked is false, true, or the reason (a string): PEP 691.
		y := strings.TrimSpace(string(f.Yanked))
		file.Yanked = y != "" && y != "false" && y != "null"
		out = append(out, file)
	}
	return out, nil
}

// Release returns the file names of project's release version, yanked
// files included (a lock may pin one).
func Release(files []File, project, version string) []string {
	want, err := pep440.Parse(version)
	if err != nil {
		return nil
	}
	var out []string
	for _, f := range files {
		if v, ok := fileVersion(f.Filename, project); ok && pep440.Compare(v, want) == 0 {
			out = append(out, f.Filename)
		}
	}
	return out
}

// Newest returns the newest final release of files that has a wheel rt
// loads (not yanked, its Requires-Python admitting the runtime's
// Python), and the release that follows it on the index ("" for none),
// which an upper bound can exclude.
func Newest(files []File, project string, rt wheeltag.Runtime) (newest, next string, ok bool) {
	python := fmt.Sprintf("3.%d.0", rt.Minor)
	var best *pep440.Version
	var all []pep440.Version
	for _, f := range files {
		v, vok := fileVersion(f.Filename, project)
		if !vok || v.IsPrerelease() {
			continue
		}
		if f.Yanked {
			continue // pip skips yanked files unless pinned to them
		}
		all = append(all, v)
		if !strings.HasSuffix(f.Filename, ".whl") {
			continue
		}
		if f.RequiresPython != "" {
			if s, err := pep440.ParseSpecifier(f.RequiresPython); err == nil && !s.Contains(python) {
				continue
			}
		}
		w, err := wheeltag.Parse(f.Filename)
		if err != nil || rt.Score(w) == 0 {
			continue
		}
		if best == nil || pep440.Compare(v, *best) > 0 {
			best = &v
		}
	}
	if best == nil {
		return "", "", false
	}
	var after *pep440.Version
	for i := range all {
		if pep440.Compare(all[i], *best) > 0 && (after == nil || pep440.Compare(all[i], *after) < 0) {
			after = &all[i]
		}
	}
	if after != nil {
		next = after.String()
	}
	return best.String(), next, true
}

// fileVersion returns the version in a wheel's or an sdist's file name,
// when the name is project's.
func fileVersion(filename, project string) (pep440.Version, bool) {
	var name, version string
	if strings.HasSuffix(filename, ".whl") {
		w, err := wheeltag.Parse(filename)
		if err != nil {
			return pep440.Version{}, false
		}
		name, version = w.Name, w.Version
	} else {
		base := ""
		for _, ext := range []string{".tar.gz", ".zip", ".tar.bz2", ".tgz"} {
			if b, ok := strings.CutSuffix(filename, ext); ok {
				base = b
				break
			}
		}
		i := strings.LastIndex(base, "-")
		if i <= 0 {
			return pep440.Version{}, false
		}
		name, version = base[:i], base[i+1:]
	}
	if pep508.NormalizeName(name) != pep508.NormalizeName(project) {
		return pep440.Version{}, false
	}
	v, err := pep440.Parse(version)
	return v, err == nil
}
