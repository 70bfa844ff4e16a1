package resolver

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/layers-dev/layers/internal/pep440"
	"github.com/layers-dev/layers/internal/pep508"
)

// pip's rules for URLs and archive names: for a link, the file name is often
// all that tells the package's name and version.

// vcsSchemes are the URL schemes of pip's version control backends.
var vcsSchemes = map[string]bool{
	"git+http": true, "git+https": true, "git+ssh": true, "git+git": true, "git+file": true,
	"hg+file": true, "hg+http": true, "hg+https": true, "hg+ssh": true, "hg+static-http": true,
	"svn+ssh": true, "svn+http": true, "svn+https": true, "svn+svn": true, "svn+file": true,
	"bzr+http": true, "bzr+https": true, "bzr+ssh": true, "bzr+sftp": true, "bzr+ftp": true,
	"bzr+lp": true, "bzr+file": true,
}

// urlScheme is the lowercased scheme urllib.parse.urlsplit would find, or "".
func urlScheme(s string) string {
	i := strings.IndexByte(s, ':')
	if i <= 0 {
		return ""
	}
	for j := 0; j < i; j++ {
		c := s[j]
		letter := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
		if !letter && (j == 0 || !(c >= '0' && c <= '9' || c == '+' || c == '-' || c == '.')) {
			return ""
		}
	}
	return strings.ToLower(s[:i])
}

func isVCS(s string) bool { return vcsSchemes[urlScheme(s)] }

// isURL is pip's is_url: a scheme pip knows how to fetch.
func isURL(s string) bool {
	switch sc := urlScheme(s); sc {
	case "http", "https", "file", "ftp":
		return true
	default:
		return vcsSchemes[sc]
	}
}

// looksLikePath is pip's _looks_like_path on POSIX.
func looksLikePath(s string) bool {
	return strings.Contains(s, "/") || strings.HasPrefix(s, ".")
}

var archiveExtensions = []string{
	".zip", ".whl", ".tar.bz2", ".tbz", ".tar.gz", ".tgz", ".tar",
	".tar.xz", ".txz", ".tlz", ".tar.lz", ".tar.lzma",
}

// archiveExt returns the archive extension of name (pip's splitext, which
// keeps ".tar" with the last extension), or "".
func archiveExt(name string) string {
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	if strings.HasSuffix(strings.ToLower(base), ".tar") {
		ext = base[len(base)-4:] + ext
	}
	if slices.Contains(archiveExtensions, strings.ToLower(ext)) {
		return ext
	}
	return ""
}

func isArchive(name string) bool { return archiveExt(name) != "" }

// stripExtras is pip's strip_extras: a trailing [extras] on a path.
func stripExtras(s string) (string, string) {
	if !strings.HasSuffix(s, "]") {
		return s, ""
	}
	i := strings.LastIndexByte(s, '[')
	if i <= 0 || strings.ContainsRune(s[i+1:len(s)-1], ']') || i+2 == len(s) {
		return s, ""
	}
	return strings.TrimRightFunc(s[:i], isPySpace), s[i:]
}

// eggFragment is pip's Link.egg_fragment: the first "#egg=" or "&egg=" value.
func eggFragment(link string) (string, error) {
	i := strings.Index(link, "#egg=")
	if j := strings.Index(link, "&egg="); j >= 0 && (i < 0 || j < i) {
		i = j
	}
	if i < 0 {
		return "", nil
	}
	egg := link[i+len("#egg="):]
	if j := strings.IndexByte(egg, '&'); j >= 0 {
		egg = egg[:j]
	}
	if !pep508.ValidName(egg) {
		return "", fmt.Errorf("#egg=%s in %s is not a project name", egg, link)
	}
	return egg, nil
}

// fileURLPath is pip's url_to_path on POSIX: the path of a file: URL, which
// may be relative ("file:../lib").
func fileURLPath(link string) (string, error) {
	rest := link[len("file:"):]
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i]
	}
	if strings.HasPrefix(rest, "//") {
		host := rest[2:]
		slash := strings.IndexByte(host, '/')
		if slash < 0 {
			slash = len(host)
		}
		if h := host[:slash]; h != "" && h != "localhost" {
			return "", fmt.Errorf("non-local file URL (host %q)", h)
		}
		rest = host[slash:]
	}
	p, err := url.PathUnescape(rest)
	if err != nil {
		return "", fmt.Errorf("bad file URL: %v", err)
	}
	if p == "" {
		return "", errors.New("file URL without a path")
	}
	return p, nil
}

// urlBase is the unescaped last path segment of a URL (pip's Link.filename).
func urlBase(link string) string {
	s := link
	if i := strings.IndexAny(s, "?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
		if j := strings.IndexByte(s, '/'); j >= 0 {
			s = s[j:]
		} else {
			s = ""
		}
	}
	s = path.Base(strings.TrimRight(s, "/"))
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	return s
}

// urlVersion is the version a URL's file name carries, or "".
func urlVersion(link string) string {
	base := urlBase(link)
	if strings.HasSuffix(base, ".whl") {
		_, v, _ := wheelNameVersion(base)
		return v
	}
	_, v, _ := sdistNameVersion(base)
	return v
}

// wheelNameVersion parses a wheel file name as packaging's
// parse_wheel_filename does.
func wheelNameVersion(file string) (name, version string, err error) {
	stem := strings.TrimSuffix(file, ".whl")
	dashes := strings.Count(stem, "-")
	if dashes != 4 && dashes != 5 {
		return "", "", fmt.Errorf("invalid wheel file name %q: wrong number of parts", file)
	}
	parts := strings.SplitN(stem, "-", 3)
	if strings.Contains(parts[0], "__") || !pep508.ValidName(parts[0]) {
		return "", "", fmt.Errorf("invalid wheel file name %q: bad project name", file)
	}
	if _, err := pep440.Parse(parts[1]); err != nil {
		return "", "", fmt.Errorf("invalid wheel file name %q: %v", file, err)
	}
	return pep508.NormalizeName(parts[0]), parts[1], nil
}

// sdistNameVersion splits an archive's file name at its last "-", as
// packaging's parse_sdist_filename does.
func sdistNameVersion(file string) (name, version string, ok bool) {
	ext := archiveExt(file)
	if ext == "" || ext == ".whl" {
		return "", "", false
	}
	stem := file[:len(file)-len(ext)]
	i := strings.LastIndexByte(stem, '-')
	if i <= 0 || !pep508.ValidName(stem[:i]) {
		return "", "", false
	}
	if _, err := pep440.Parse(stem[i+1:]); err != nil {
		return "", "", false
	}
	return pep508.NormalizeName(stem[:i]), stem[i+1:], true
}
