package resolver

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pelletier/go-toml/v2"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep440"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/internal/tomlpos"
)

// This file reads requirements files the way pip 26 does (pip's
// req/req_file.py and req/constructors.py): the same line joining, comment
// stripping, ${VAR} expansion, option parsing (optparse, with its unique-prefix
// abbreviations), include rules and requirement forms. What pip rejects while
// reading a file is rejected here too, at the line, as one *diag.Error.
//
// Deliberate differences, all because the resolver never runs a build or
// touches the network:
//   - What pip only finds out when it builds or downloads is an error at the
//     line: a URL or archive whose name its file name does not tell, a
//     missing archive, a local project whose metadata names another package.
//   - Relative paths of local packages are looked up from the folder of the
//     file that names them, then from the repository root (pip and uv use the
//     current directory, which is one of those two in practice). Includes are
//     relative to the including file, as in pip.
//   - A local package's name and version come from its static metadata
//     (pyproject.toml, setup.cfg); setup.py is never run.
//   - Remote (http/https) includes, and paths outside the repository, are errors.
//   - --use-feature, --all-releases and --only-final accept any value: their
//     choices change from one pip release to the next.

// RequirementsFile is a requirements file with its includes followed.
type RequirementsFile struct {
	Path string // relative to the root, forward slashes
	// Requirements are those of this file and of its -r includes, in file
	// order (an include's requirements sit at the include's place).
	Requirements []Requirement
	// Constraints come from -c/--constraint files: they pin but never add packages.
	Constraints []Requirement
	// Options are pip's index options as pip ends up with them after reading
	// every file in order: a later --index-url replaces the index and the
	// extra indexes named before it, --no-index drops every index and makes
	// later index options moot, --no-binary/--only-binary follow pip's
	// FormatControl rules.
	Options IndexOptions

	// local records what the parser learnt of each local package, by LocalPath.
	local map[string]localInfo
}

// localInfo is a local package's metadata as far as static files tell.
type localInfo struct {
	name    string // normalised; "" when no static file declares it
	version string // "" when dynamic or unknown
}

// ParseRequirementsFile reads root/rel and follows -r/-c includes relative to
// the including file. getenv expands ${VAR} references (pip only expands the
// ${NAME} form with [A-Z0-9_] names; an unset or empty variable is left as
// written, like pip); a nil getenv expands nothing. A missing root file is a
// plain error; anything wrong inside the files is a *diag.Error.
func ParseRequirementsFile(root, rel string, getenv func(string) (string, bool)) (*RequirementsFile, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("requirements file %s: %w", rel, err)
	}
	return parseRequirements(os.DirFS(root), abs, filepath.ToSlash(rel), getenv)
}

// parseRequirements is ParseRequirementsFile over any file system, so that
// tests and the fuzz target can serve files from memory. rootAbs is where
// fsys sits on disk, for absolute paths and file: URLs.
func parseRequirements(fsys fs.FS, rootAbs, rel string, getenv func(string) (string, bool)) (*RequirementsFile, error) {
	rel = path.Clean(rel)
	data, err := fs.ReadFile(fsys, rel)
	if err != nil {
		return nil, fmt.Errorf("reading requirements file: %w", err)
	}
	p := &reqParser{
		fsys:    fsys,
		rootAbs: filepath.ToSlash(rootAbs),
		getenv:  getenv,
		file:    &RequirementsFile{Path: rel, local: map[string]localInfo{}},
		meta:    map[string]localInfo{},
		markers: map[string]*pep508.Marker{},
		reqs:    map[string]pep508.Requirement{},
	}
	p.stack = append(p.stack, rel)
	if err := p.parseFile(rel, data, false); err != nil {
		return nil, err
	}
	p.file.Options.NoBinary = p.noBinary
	p.file.Options.OnlyBinary = p.onlyBinary
	return p.file, nil
}

// maxFileReads bounds how many files one parse reads: pip re-reads a file
// each time it is included, so include diamonds grow exponentially.
const maxFileReads = 1000

// reqParser is the state of one ParseRequirementsFile call.
type reqParser struct {
	fsys    fs.FS
	rootAbs string
	getenv  func(string) (string, bool)
	file    *RequirementsFile
	// noBinary and onlyBinary are pip's FormatControl, shared by every line
	// of every file (pip mutates it while parsing options, even on
	// requirement lines).
	noBinary, onlyBinary []string
	stack                []string             // files being read, outermost first
	reads                int                  // files read so far
	meta                 map[string]localInfo // static metadata by folder
	subst                []varSubst           // ${VAR} expansions of the current line
	// Compiled files repeat markers (one per fork) and include diamonds
	// repeat whole lines: each distinct string is parsed once.
	markers map[string]*pep508.Marker
	reqs    map[string]pep508.Requirement
}

func (p *reqParser) parseMarker(s string) (*pep508.Marker, error) {
	if m, ok := p.markers[s]; ok {
		return m, nil
	}
	m, err := pep508.ParseMarker(s)
	if err == nil {
		p.markers[s] = m
	}
	return m, err
}

func (p *reqParser) parsePEP508(s string) (pep508.Requirement, error) {
	if r, ok := p.reqs[s]; ok {
		return r, nil
	}
	r, err := pep508.ParseRequirement(s)
	if err == nil {
		p.reqs[s] = r
	}
	return r, err
}

// varSubst is one ${NAME} expansion, remembered so that messages can show
// the reference instead of its value (values often hold credentials).
type varSubst struct{ ref, value string }

// errorf returns a diag error with the current line's expanded values
// replaced by their ${NAME} references. Values too short to be secrets stay,
// lest every "1" of a message turn into ${MAJOR}.
func (p *reqParser) errorf(file string, line int, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	for _, s := range p.subst {
		if len(s.value) >= 4 {
			msg = strings.ReplaceAll(msg, s.value, s.ref)
		}
	}
	return &diag.Error{Path: file, Line: line, Msg: msg}
}

func (p *reqParser) parseFile(file string, data []byte, constraint bool) error {
	p.reads++
	if p.reads > maxFileReads {
		return diag.Errorf(file, 0, "more than %d requirements files read: includes repeat too much", maxFileReads)
	}
	var err error
	forEachLogicalLine(decodeText(data), func(l logicalLine) bool {
		err = p.parseLine(file, l, constraint)
		return err == nil
	})
	return err
}

func (p *reqParser) parseLine(file string, l logicalLine, constraint bool) error {
	line := p.expand(l.text)
	defer func() { p.subst = p.subst[:0] }()
	args, optText := breakArgsOptions(line)
	words, err := shlexSplit(optText)
	if err != nil {
		return p.errorf(file, l.line, "could not split options %q: %v", optText, err)
	}
	opts, err := p.parseOptions(words)
	if err != nil {
		return p.errorf(file, l.line, "%v", err)
	}
	rawArgs, _ := breakArgsOptions(l.text)
	switch {
	case args != "":
		r, err := p.lineRequirement(file, l.line, args)
		if err != nil {
			return err
		}
		r.Hashes = opts.hashes
		r.Raw = pyStrip(rawArgs)
		return p.add(r, constraint)
	case len(opts.editables) > 0:
		// pip takes the first -e of a line and ignores per-requirement
		// options such as --hash on editable lines.
		r, err := p.editableRequirement(file, l.line, opts.editables[0])
		if err != nil {
			return err
		}
		r.Raw = l.text
		return p.add(r, constraint)
	case len(opts.requirements) > 0:
		return p.include(file, l.line, opts.requirements[0], false)
	case len(opts.constraints) > 0:
		return p.include(file, l.line, opts.constraints[0], true)
	}
	p.applyOptions(file, opts)
	return nil
}

// add files a requirement; pip rejects some forms only as constraints.
func (p *reqParser) add(r Requirement, constraint bool) error {
	if !constraint {
		p.file.Requirements = append(p.file.Requirements, r)
		return nil
	}
	switch {
	case r.Editable:
		return p.errorf(r.Path, r.Line, "editable requirements are not allowed as constraints")
	case len(r.Extras) > 0:
		return p.errorf(r.Path, r.Line, "constraints cannot have extras")
	}
	p.file.Constraints = append(p.file.Constraints, r)
	return nil
}

func (p *reqParser) include(file string, line int, target string, constraint bool) error {
	kind := "requirements"
	if constraint {
		kind = "constraints"
	}
	written := target
	if s := urlScheme(target); s == "http" || s == "https" {
		return p.errorf(file, line, "%s file %s is remote: layers reads only files in the repository", kind, written)
	} else if s == "file" {
		local, err := fileURLPath(target)
		if err != nil {
			return p.errorf(file, line, "%s file %s: %v", kind, written, err)
		}
		target = local
	}
	rel, ok := p.repoPath(path.Dir(file), target)
	if !ok {
		return p.errorf(file, line, "%s file %s is outside the repository", kind, written)
	}
	for i, f := range p.stack {
		if f == rel {
			chain := strings.Join(append(slices.Clone(p.stack[i:]), rel), " -> ")
			return p.errorf(file, line, "include cycle: %s", chain)
		}
	}
	data, err := fs.ReadFile(p.fsys, rel)
	if err != nil {
		reason := err.Error()
		var pe *fs.PathError
		switch {
		case errors.Is(err, fs.ErrNotExist):
			reason = "no such file"
		case errors.As(err, &pe):
			reason = pe.Err.Error()
		}
		return p.errorf(file, line, "cannot open %s file %s: %s", kind, rel, reason)
	}
	p.stack = append(p.stack, rel)
	outer := p.subst
	p.subst = nil
	err = p.parseFile(rel, data, constraint)
	p.stack, p.subst = p.stack[:len(p.stack)-1], outer
	return err
}

// repoPath turns a path written in a file of folder dir into a path relative
// to the root; ok is false when it leaves the repository.
func (p *reqParser) repoPath(dir, written string) (string, bool) {
	var rel string
	if strings.HasPrefix(written, "/") {
		r, err := filepath.Rel(filepath.FromSlash(p.rootAbs), filepath.FromSlash(written))
		if err != nil {
			return "", false
		}
		rel = filepath.ToSlash(r)
	} else {
		rel = path.Join(dir, written)
	}
	if rel == ".." || strings.HasPrefix(rel, "../") || !fs.ValidPath(rel) {
		return "", false
	}
	return rel, true
}

// locate finds the file or folder a local requirement names: relative to the
// naming file's folder first, then to the root. When neither exists it
// returns the first candidate inside the repository with a nil info.
func (p *reqParser) locate(dir, written string) (rel string, info fs.FileInfo, ok bool) {
	candidates := []string{dir}
	if dir != "." && !strings.HasPrefix(written, "/") {
		candidates = append(candidates, ".")
	}
	for _, d := range candidates {
		r, inside := p.repoPath(d, written)
		if !inside {
			continue
		}
		if !ok {
			rel, ok = r, true
		}
		if fi, err := fs.Stat(p.fsys, r); err == nil {
			return r, fi, true
		}
	}
	return rel, nil, ok
}

// expand applies pip's ${NAME} expansion to a logical line.
func (p *reqParser) expand(line string) string {
	if p.getenv == nil || !strings.Contains(line, "${") {
		return line
	}
	// pip finds the references in the original line, then replaces each in
	// the line as it stands: a value may itself be expanded by a later one.
	// Each name is replaced once (pip replaces once per reference, which only
	// differs for a value holding its own reference, and grows quadratically).
	var refs []string
	for rest := line; ; {
		i := strings.Index(rest, "${")
		if i < 0 {
			break
		}
		rest = rest[i+2:]
		n := 0
		for n < len(rest) && (rest[n] >= 'A' && rest[n] <= 'Z' || rest[n] >= '0' && rest[n] <= '9' || rest[n] == '_') {
			n++
		}
		if n > 0 && n < len(rest) && rest[n] == '}' {
			if !slices.Contains(refs, rest[:n]) {
				refs = append(refs, rest[:n])
			}
			rest = rest[n+1:]
		}
	}
	for _, name := range refs {
		v, ok := p.getenv(name)
		if !ok || v == "" {
			continue
		}
		ref := "${" + name + "}"
		line = strings.ReplaceAll(line, ref, v)
		p.subst = append(p.subst, varSubst{ref: ref, value: v})
	}
	return line
}

// applyOptions applies an option line's index options in pip's order.
func (p *reqParser) applyOptions(file string, o lineOptions) {
	opts := &p.file.Options
	if o.noIndex {
		opts.NoIndex, opts.IndexURL, opts.ExtraIndexURLs = true, "", nil
	}
	if o.indexURL != "" && !opts.NoIndex {
		opts.IndexURL, opts.ExtraIndexURLs = o.indexURL, nil
	}
	if !opts.NoIndex {
		for _, u := range o.extraIndexURLs {
			opts.ExtraIndexURLs = appendUnique(opts.ExtraIndexURLs, u)
		}
	}
	if len(o.findLinks) > 0 {
		// pip keeps only the first -f of a line, and reads a relative one
		// from the requirements file's folder when it exists there.
		v := o.findLinks[0]
		if urlScheme(v) == "" {
			if rel, ok := p.repoPath(path.Dir(file), v); ok {
				if _, err := fs.Stat(p.fsys, rel); err == nil {
					v = rel
				}
			}
		}
		opts.FindLinks = appendUnique(opts.FindLinks, v)
	}
	if o.pre {
		opts.Pre = true
	}
}

func appendUnique(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// ---- requirement lines ----

// lineRequirement parses the requirement part of a line as pip's
// parse_req_from_line does: a URL, a local folder or archive, or a PEP 508
// requirement, with the marker split off first.
func (p *reqParser) lineRequirement(file string, line int, args string) (Requirement, error) {
	r := Requirement{Path: file, Line: line}
	name := args
	sep := ";"
	if isURL(pyStrip(name)) {
		sep = "; " // a URL may hold ";"
	}
	if i := strings.Index(name, sep); i >= 0 {
		m := pyStrip(name[i+len(sep):])
		name = name[:i]
		if m != "" {
			mk, err := p.parseMarker(m)
			if err != nil {
				return r, p.errorf(file, line, "%v", err)
			}
			r.Marker = mk
		}
	}
	name = pyStrip(name)
	if isURL(name) {
		return p.linkRequirement(r, name)
	}
	dir := path.Dir(file)
	written, extras := stripExtras(name)
	if looksLikePath(name) {
		if rel, fi, _ := p.locate(dir, written); fi != nil && fi.IsDir() {
			x, err := p.parseExtras(file, line, extras)
			if err != nil {
				return r, err
			}
			r.Extras = x
			return p.localRequirement(r, rel, written, "", true)
		}
	}
	if isArchive(written) {
		rel, fi, inside := p.locate(dir, written)
		at := strings.Index(name, "@")
		if fi == nil && at >= 0 && !looksLikePath(name[:at]) {
			return p.pep508Requirement(r, name)
		}
		if !inside {
			return r, p.errorf(file, line, "%s is outside the repository", written)
		}
		if fi == nil || fi.IsDir() {
			return r, p.errorf(file, line, "archive %s does not exist", written)
		}
		x, err := p.parseExtras(file, line, extras)
		if err != nil {
			return r, err
		}
		r.Extras = x
		return p.localRequirement(r, rel, written, "", false)
	}
	return p.pep508Requirement(r, name)
}

func (p *reqParser) pep508Requirement(r Requirement, s string) (Requirement, error) {
	req, err := p.parsePEP508(s)
	switch {
	case err == nil:
	case looksLikePath(s) && !strings.Contains(s, "@"):
		return r, p.errorf(r.Path, r.Line, "%s looks like a path, but there is no project folder or archive there", s)
	case strings.Contains(s, "=") && !strings.ContainsAny(s, "<>!~") && !strings.Contains(s, "=="):
		return r, p.errorf(r.Path, r.Line, "%v (= is not a valid operator: did you mean ==?)", err)
	default:
		return r, p.errorf(r.Path, r.Line, "%v", err)
	}
	marker := r.Marker
	r.Requirement = req
	r.Marker = marker
	if urlScheme(req.URL) == "file" {
		local, err := fileURLPath(req.URL)
		if err != nil {
			return r, p.errorf(r.Path, r.Line, "%s: %v", req.URL, err)
		}
		return p.fileRequirement(r, local, req.Name)
	}
	return r, nil
}

// linkRequirement handles a line that is a bare URL: the name comes from a
// wheel file name, #egg=, or an sdist file name, as pip would guess it.
func (p *reqParser) linkRequirement(r Requirement, link string) (Requirement, error) {
	egg, err := eggFragment(link)
	if err != nil {
		return r, p.errorf(r.Path, r.Line, "%v", err)
	}
	if urlScheme(link) == "file" {
		local, err := fileURLPath(link)
		if err != nil {
			return r, p.errorf(r.Path, r.Line, "%s: %v", link, err)
		}
		r.URL = link
		return p.fileRequirement(r, local, egg)
	}
	r.URL = link
	base := urlBase(link)
	switch {
	case strings.HasSuffix(base, ".whl"):
		n, _, err := wheelNameVersion(base)
		if err != nil {
			return r, p.errorf(r.Path, r.Line, "%v", err)
		}
		r.Name = n
	case egg != "":
		r.Name = pep508.NormalizeName(egg)
	default:
		n, _, ok := sdistNameVersion(base)
		if !ok {
			return r, p.errorf(r.Path, r.Line, "cannot tell the package name of %s: write it as name @ URL", link)
		}
		r.Name = n
	}
	return r, nil
}

// fileRequirement handles a file: URL: a local folder or archive.
func (p *reqParser) fileRequirement(r Requirement, local, name string) (Requirement, error) {
	rel, fi, inside := p.locate(path.Dir(r.Path), local)
	switch {
	case !inside:
		return r, p.errorf(r.Path, r.Line, "%s is outside the repository", local)
	case fi == nil:
		return r, p.errorf(r.Path, r.Line, "%s does not exist", local)
	}
	return p.localRequirement(r, rel, local, name, fi.IsDir())
}

// localRequirement completes a requirement on a local folder or archive at
// rel; name is the name the line gives (from #egg= or `name @`), if any.
func (p *reqParser) localRequirement(r Requirement, rel, written, name string, dir bool) (Requirement, error) {
	r.LocalPath = rel
	var info localInfo
	if dir {
		installable := false
		for _, f := range []string{"pyproject.toml", "setup.py"} {
			if _, err := fs.Stat(p.fsys, path.Join(rel, f)); err == nil {
				installable = true
			}
		}
		if !installable {
			return r, p.errorf(r.Path, r.Line, "directory %s is not installable: neither setup.py nor pyproject.toml found", written)
		}
		var err error
		if info, err = p.folderMetadata(rel); err != nil {
			return r, err
		}
	} else if base := path.Base(rel); strings.HasSuffix(base, ".whl") {
		n, v, err := wheelNameVersion(base)
		if err != nil {
			return r, p.errorf(r.Path, r.Line, "%v", err)
		}
		info = localInfo{n, v}
	} else if n, v, ok := sdistNameVersion(base); ok {
		info = localInfo{n, v}
	}
	switch {
	case name == "" && info.name == "" && dir:
		return r, p.errorf(r.Path, r.Line, "cannot tell the package name of %s: neither pyproject.toml nor setup.cfg declares it statically", written)
	case name == "" && info.name == "":
		return r, p.errorf(r.Path, r.Line, "cannot tell the package name of %s from its file name: write it as name @ file:…", written)
	case name == "":
		r.Name = info.name
	default:
		r.Name = pep508.NormalizeName(name)
		if info.name != "" && info.name != r.Name {
			source := "its metadata"
			if !dir {
				source = "its file name"
			}
			return r, p.errorf(r.Path, r.Line, "%s is named %s in %s, not %s", written, info.name, source, r.Name)
		}
	}
	p.file.local[rel] = info
	return r, nil
}

// editableRequirement parses an -e value as pip's parse_editable does.
func (p *reqParser) editableRequirement(file string, line int, value string) (Requirement, error) {
	r := Requirement{Path: file, Line: line, Editable: true}
	if req, err := pep508.ParseRequirement(value); err == nil && req.URL != "" {
		if !isVCS(req.URL) && urlScheme(req.URL) != "file" {
			return r, p.errorf(file, line, "%s is not a valid editable requirement: it should be a path to a local project or a VCS URL", value)
		}
		r.Requirement = req
		if urlScheme(req.URL) == "file" {
			local, err := fileURLPath(req.URL)
			if err != nil {
				return r, p.errorf(file, line, "%s: %v", req.URL, err)
			}
			return p.editableFolder(r, local, req.Name)
		}
		return r, nil
	}
	link, extras := stripExtras(value)
	if rel, fi, _ := p.locate(path.Dir(file), link); fi != nil && fi.IsDir() {
		x, err := p.parseExtras(file, line, extras)
		if err != nil {
			return r, err
		}
		r.Extras = x
		return p.localRequirement(r, rel, link, "", true)
	}
	if urlScheme(link) == "file" {
		egg, err := eggFragment(link)
		if err != nil {
			return r, p.errorf(file, line, "%v", err)
		}
		x, err := p.parseExtras(file, line, extras)
		if err != nil {
			return r, err
		}
		r.Extras, r.URL = x, link
		local, err := fileURLPath(link)
		if err != nil {
			return r, p.errorf(file, line, "%s: %v", link, err)
		}
		return p.editableFolder(r, local, egg)
	}
	link = value // pip keeps the extras in a VCS URL
	for _, vcs := range []string{"git", "hg", "svn", "bzr"} {
		if strings.HasPrefix(strings.ToLower(link), vcs+":") {
			link = vcs + "+" + link
			break
		}
	}
	if !isVCS(link) {
		if urlScheme(link) == "" && looksLikePath(link) {
			return r, p.errorf(file, line, "editable %s: no such project folder", value)
		}
		return r, p.errorf(file, line, "%s is not a valid editable requirement: it should be a path to a local project or a VCS URL", value)
	}
	egg, err := eggFragment(link)
	if err != nil {
		return r, p.errorf(file, line, "%v", err)
	}
	if egg == "" {
		return r, p.errorf(file, line, "cannot tell the package name of %s: write it as name @ URL or add #egg=name", value)
	}
	r.Name, r.URL = pep508.NormalizeName(egg), link
	return r, nil
}

// editableFolder completes an editable file: requirement, which must be a folder.
func (p *reqParser) editableFolder(r Requirement, local, name string) (Requirement, error) {
	rel, fi, inside := p.locate(path.Dir(r.Path), local)
	switch {
	case !inside:
		return r, p.errorf(r.Path, r.Line, "%s is outside the repository", local)
	case fi == nil || !fi.IsDir():
		return r, p.errorf(r.Path, r.Line, "editable %s: no such project folder", local)
	}
	return p.localRequirement(r, rel, local, name, true)
}

func (p *reqParser) parseExtras(file string, line int, extras string) ([]string, error) {
	if extras == "" {
		return nil, nil
	}
	req, err := pep508.ParseRequirement("placeholder" + extras)
	if err != nil {
		return nil, p.errorf(file, line, "invalid extras %s", extras)
	}
	return req.Extras, nil
}

// ---- local package metadata ----

// pyprojectMetadata is what the resolver needs of a local project's
// pyproject.toml. Values are decoded as any so that one of the wrong type
// gets a message in TOML terms, or is ignored where it does not matter.
type pyprojectMetadata struct {
	Project *struct {
		Name    any `toml:"name"`
		Version any `toml:"version"`
		Dynamic any `toml:"dynamic"`
	} `toml:"project"`
	Tool struct {
		Poetry *struct {
			Name    any `toml:"name"`
			Version any `toml:"version"`
		} `toml:"poetry"`
	} `toml:"tool"`
}

// folderMetadata reads a local project's name and version from
// pyproject.toml ([project], then [tool.poetry]) or setup.cfg ([metadata]).
func (p *reqParser) folderMetadata(dir string) (localInfo, error) {
	if info, ok := p.meta[dir]; ok {
		return info, nil
	}
	var info localInfo
	file := path.Join(dir, "pyproject.toml")
	if data, err := fs.ReadFile(p.fsys, file); err == nil {
		var err error
		if info, err = pyprojectInfo(file, data); err != nil {
			return info, err
		}
	}
	if info.name == "" {
		cfg := path.Join(dir, "setup.cfg")
		if data, err := fs.ReadFile(p.fsys, cfg); err == nil {
			var err error
			if info, err = setupCfgMetadata(cfg, data); err != nil {
				return info, err
			}
		}
	}
	p.meta[dir] = info
	return info, nil
}

func pyprojectInfo(file string, data []byte) (localInfo, error) {
	var doc pyprojectMetadata
	if err := toml.Unmarshal(data, &doc); err != nil {
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, _ := de.Position()
			return localInfo{}, diag.Errorf(file, row, "%s", de.Error())
		}
		return localInfo{}, diag.Errorf(file, 0, "%v", err)
	}
	var name, version any
	var table []any
	poetry := doc.Tool.Poetry
	switch {
	case doc.Project != nil && doc.Project.Name != nil:
		name, version, table = doc.Project.Name, doc.Project.Version, []any{"project"}
		dynamic, _ := doc.Project.Dynamic.([]any)
		if version == nil && poetry != nil && slices.Contains(dynamic, any("version")) {
			version = poetry.Version // Poetry 2 keeps a dynamic version there
		}
	case poetry != nil && poetry.Name != nil:
		name, version, table = poetry.Name, poetry.Version, []any{"tool", "poetry"}
	default:
		return localInfo{}, nil
	}
	at := func(key string) int {
		if key == "version" && doc.Project != nil && doc.Project.Version == nil && table[0] == "project" {
			return tomlpos.Line(data, "tool", "poetry", "version")
		}
		return tomlpos.Line(data, append(slices.Clone(table), key)...)
	}
	n, ok := name.(string)
	if !ok || !pep508.ValidName(n) {
		return localInfo{}, diag.Errorf(file, at("name"), "invalid project name %v: want a string of letters, digits, '.', '_' and '-'", tomlValue(name))
	}
	info := localInfo{name: pep508.NormalizeName(n)}
	if version != nil {
		v, ok := version.(string)
		if !ok {
			return localInfo{}, diag.Errorf(file, at("version"), "invalid version %v: want a string", tomlValue(version))
		}
		if _, err := pep440.Parse(v); err != nil {
			return localInfo{}, diag.Errorf(file, at("version"), "%v", err)
		}
		info.version = v
	}
	return info, nil
}

// tomlValue shows a decoded value the way it was likely written.
func tomlValue(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprint(v)
}

// setupCfgMetadata reads [metadata] name and version the way configparser
// does: case-insensitive keys, "=" or ":", indented continuation lines.
func setupCfgMetadata(file string, data []byte) (localInfo, error) {
	var info localInfo
	values := map[string]string{}
	lines := map[string]int{}
	section, key := "", ""
	for i, line := range strings.Split(string(data), "\n") {
		line = strings.TrimRight(line, "\r")
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';':
			continue
		case line[0] == ' ' || line[0] == '\t':
			if key != "" && section == "metadata" {
				values[key] = strings.TrimSpace(values[key] + "\n" + trimmed)
			}
			continue
		case trimmed[0] == '[' && strings.HasSuffix(trimmed, "]"):
			section, key = strings.TrimSpace(trimmed[1:len(trimmed)-1]), ""
			continue
		}
		k, v, ok := cutAny(trimmed, "=:")
		if !ok || section != "metadata" {
			key = ""
			continue
		}
		key = strings.ToLower(strings.TrimSpace(k))
		values[key] = strings.TrimSpace(v)
		lines[key] = i + 1
	}
	if name := values["name"]; name != "" {
		if !pep508.ValidName(name) {
			return info, diag.Errorf(file, lines["name"], "invalid project name %q", name)
		}
		info.name = pep508.NormalizeName(name)
	}
	if v := values["version"]; v != "" && !strings.HasPrefix(v, "attr:") && !strings.HasPrefix(v, "file:") {
		if _, err := pep440.Parse(v); err != nil {
			return info, diag.Errorf(file, lines["version"], "%v", err)
		}
		info.version = v
	}
	return info, nil
}

func cutAny(s, seps string) (before, after string, ok bool) {
	if i := strings.IndexAny(s, seps); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// ---- pins and closures ----

// reqPin says how one requirement line fixes its package, if it does.
type reqPin struct {
	source  Source
	version string // "" when the line does not tell
	url     string
	path    string
}

func (f *RequirementsFile) pinOf(r *Requirement) (reqPin, bool) {
	switch {
	case r.LocalPath != "":
		return reqPin{source: SourceLocal, version: f.local[r.LocalPath].version, path: r.LocalPath}, true
	case r.URL != "":
		return reqPin{source: SourceURL, version: urlVersion(r.URL), url: r.URL}, true
	}
	v, ok := r.Specifier.Pin()
	return reqPin{source: SourceRegistry, version: v}, ok
}

// groupLine is a requirement or constraint line of one package name.
type groupLine struct {
	r          *Requirement
	constraint bool
}

// groups gathers, for each package name the requirements name in env, its
// requirement lines then its constraint lines, each in file order.
func (f *RequirementsFile) groups(env pep508.Env) (names []string, groups map[string][]groupLine) {
	groups = map[string][]groupLine{}
	for i := range f.Requirements {
		r := &f.Requirements[i]
		if !r.Marker.Evaluate(env) {
			continue
		}
		if _, seen := groups[r.Name]; !seen {
			names = append(names, r.Name)
		}
		groups[r.Name] = append(groups[r.Name], groupLine{r: r})
	}
	for i := range f.Constraints {
		c := &f.Constraints[i]
		if g, ok := groups[c.Name]; ok && c.Marker.Evaluate(env) {
			groups[c.Name] = append(g, groupLine{r: c, constraint: true})
		}
	}
	return names, groups
}

// anchor picks the line that fixes a group's package: a local or URL
// requirement first (pip installs a direct reference and checks the other
// lines against it), then a pinned requirement, then constraints likewise.
func (f *RequirementsFile) anchor(g []groupLine) (groupLine, reqPin, bool) {
	for _, constraint := range []bool{false, true} {
		for _, direct := range []bool{true, false} {
			for _, l := range g {
				if l.constraint != constraint {
					continue
				}
				if pn, ok := f.pinOf(l.r); ok && (pn.source != SourceRegistry) == direct {
					return l, pn, true
				}
			}
		}
	}
	return groupLine{}, reqPin{}, false
}

// Pinned returns the requirements that are not fully pinned once markers are
// evaluated in env: a requirement is pinned by ==V (no wildcard), ===V, a URL
// or a local path, on its own line, on another line of the same name, or by a
// constraint. An empty result means the file can become a closure.
func (f *RequirementsFile) Pinned(env pep508.Env) (unpinned []Requirement) {
	names, groups := f.groups(env)
	for _, name := range names {
		g := groups[name]
		if _, _, ok := f.anchor(g); ok {
			continue
		}
		for _, l := range g {
			if !l.constraint {
				unpinned = append(unpinned, *l.r)
			}
		}
	}
	return unpinned
}

// Packages turns a fully pinned file into a closure: one Package per package
// name its requirements name in env, sorted by name. Constraints pin
// unpinned requirements of the same name and never add packages. Lines of
// one name that disagree (two pins, a pin outside a constraint, hashes with
// nothing in common) are a *diag.Error at the requirement's line naming the
// other one; an unpinned requirement is a *diag.Error too.
func (f *RequirementsFile) Packages(env pep508.Env) ([]Package, error) {
	names, groups := f.groups(env) // in file order, so that the first problem is reported
	out := make([]Package, 0, len(names))
	for _, name := range names {
		g := groups[name]
		a, pn, ok := f.anchor(g)
		if !ok {
			r := g[0].r
			return nil, diag.Errorf(r.Path, r.Line, "%s is not pinned: pin it with == (or compile the file with pip-compile or uv pip compile)", r.Raw)
		}
		hashes, hashesFrom := a.r.Hashes, a
		for _, x := range g {
			if x.r == a.r {
				continue
			}
			if !agrees(&pn, x.r) {
				return nil, lineConflict(a, x, "%s conflicts with %s%s at %s:%d")
			}
			switch {
			case len(x.r.Hashes) == 0:
			case len(hashes) == 0:
				hashes, hashesFrom = x.r.Hashes, x
			default:
				// pip intersects the hashes of every line of a name.
				if hashes = intersectHashes(hashes, x.r.Hashes); len(hashes) == 0 {
					return nil, lineConflict(hashesFrom, x, "the hashes of %s share none with those of %s%s at %s:%d")
				}
			}
		}
		pkg := Package{Name: name, Version: pn.version, Source: pn.source, URL: pn.url, Path: pn.path}
		if pkg.Version == "" {
			pkg.Version = "0" // a local or URL package whose version only a build can tell
		}
		if len(hashes) > 0 {
			pkg.Hashes = slices.Clone(hashes)
		}
		out = append(out, pkg)
	}
	slices.SortFunc(out, func(a, b Package) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// agrees reports whether line x accepts the package pn; it learns the
// version from x when pn's own line does not tell it.
func agrees(pn *reqPin, x *Requirement) bool {
	switch {
	case x.LocalPath != "":
		return pn.source == SourceLocal && pn.path == x.LocalPath
	case x.URL != "":
		return pn.source == SourceURL && pn.url == x.URL
	case x.Specifier.IsZero():
		return true
	case pn.version == "":
		if v, ok := x.Specifier.Pin(); ok {
			pn.version = v
		}
		return true
	}
	return x.Specifier.Contains(pn.version)
}

// lineConflict reports two disagreeing lines of one name at the requirement's
// line (the later one when both are requirements or both constraints).
// format takes: this line, "constraint " or "", the other line, its path and line.
func lineConflict(a, x groupLine, format string) error {
	at, other := x, a
	if x.constraint && !a.constraint {
		at, other = a, x
	}
	kind := ""
	if other.constraint && !at.constraint {
		kind = "constraint "
	}
	return diag.Errorf(at.r.Path, at.r.Line, format, at.r.Raw, kind, other.r.Raw, other.r.Path, other.r.Line)
}

func intersectHashes(a, b []string) []string {
	var out []string
	for _, h := range a {
		if slices.Contains(b, h) {
			out = append(out, h)
		}
	}
	return out
}

// ---- lines ----

// logicalLine is a requirements-file line after pip's joining, comment
// stripping and trimming, at the line its first physical line starts on.
type logicalLine struct {
	line int
	text string
}

// forEachLogicalLine runs pip's preprocess (join_lines, then ignore_comments)
// over text, calling fn until it returns false. Lines are split where
// Python's str.splitlines splits, but numbered as editors number them.
func forEachLogicalLine(text string, fn func(logicalLine) bool) {
	var joined strings.Builder
	joining, primary, stop := false, 0, false
	emit := func(line int, s string) {
		if s = pyStrip(stripComment(s)); s != "" && !stop {
			stop = !fn(logicalLine{line, s})
		}
	}
	forEachPhysicalLine(text, func(n int, line string) bool {
		comment := isCommentLine(line)
		if !strings.HasSuffix(line, `\`) || comment {
			if comment {
				line = " " + line // so that the comment is stripped from the joined line
			}
			if joining {
				joined.WriteString(line)
				emit(primary, joined.String())
				joined.Reset()
				joining = false
			} else {
				emit(n, line)
			}
			return !stop
		}
		if !joining {
			primary, joining = n, true
		}
		joined.WriteString(strings.Trim(line, `\`))
		return true
	})
	if joining {
		emit(primary, joined.String())
	}
}

// forEachPhysicalLine splits text like Python's str.splitlines, numbering
// lines by \n, \r\n and \r only, as editors and error messages do.
func forEachPhysicalLine(text string, fn func(line int, s string) bool) {
	n, start := 1, 0
	for i := 0; i < len(text); {
		r, size := rune(text[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		} else if r > '\r' && r < 0x1c || r > 0x1e {
			i++
			continue
		}
		switch r {
		case '\n', '\r', '\v', '\f', 0x1c, 0x1d, 0x1e, 0x85, 0x2028, 0x2029:
			if !fn(n, text[start:i]) {
				return
			}
			next := i + size
			if r == '\r' && next < len(text) && text[next] == '\n' {
				next++
			}
			if r == '\n' || r == '\r' {
				n++
			}
			start, i = next, next
			continue
		}
		i += size
	}
	if start < len(text) {
		fn(n, text[start:])
	}
}

// isPySpace is Python's str.isspace for one character.
func isPySpace(r rune) bool {
	if r < utf8.RuneSelf {
		return r == ' ' || r >= '\t' && r <= '\r' || r >= 0x1c && r <= 0x1f
	}
	return unicode.IsSpace(r)
}

func pyStrip(s string) string { return strings.TrimFunc(s, isPySpace) }

// isCommentLine is pip's COMMENT_RE.match: optional whitespace, then "#".
func isCommentLine(s string) bool {
	return strings.HasPrefix(strings.TrimLeftFunc(s, isPySpace), "#")
}

// stripComment is pip's COMMENT_RE.sub: a "#" at the start or after
// whitespace starts a comment; "#" inside a word (URL fragments) does not.
func stripComment(s string) string {
	space := -1 // start of the whitespace run before i
	for i, r := range s {
		switch {
		case r == '#' && i == 0:
			return ""
		case r == '#' && space >= 0:
			return s[:space]
		case isPySpace(r):
			if space < 0 {
				space = i
			}
		default:
			space = -1
		}
	}
	return s
}

// breakArgsOptions is pip's break_args_options: the requirement is every
// space-separated token before the first one starting with "-".
func breakArgsOptions(line string) (args, options string) {
	if strings.HasPrefix(line, "-") {
		return "", line
	}
	if i := strings.Index(line, " -"); i >= 0 {
		return line[:i], line[i+1:]
	}
	return line, ""
}

// decodeText strips the byte-order marks pip recognises, decoding UTF-16 and
// UTF-32 files; everything else is read as UTF-8.
func decodeText(data []byte) string {
	switch {
	case bytes.HasPrefix(data, []byte{0xEF, 0xBB, 0xBF}):
		return string(data[3:])
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE, 0, 0}):
		return decodeUTF32(data[4:], false)
	case bytes.HasPrefix(data, []byte{0, 0, 0xFE, 0xFF}):
		return decodeUTF32(data[4:], true)
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return decodeUTF16(data[2:], false)
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return decodeUTF16(data[2:], true)
	}
	return string(data)
}

func decodeUTF16(b []byte, bigEndian bool) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		if bigEndian {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		} else {
			u[i] = uint16(b[2*i+1])<<8 | uint16(b[2*i])
		}
	}
	return string(utf16.Decode(u))
}

func decodeUTF32(b []byte, bigEndian bool) string {
	var sb strings.Builder
	for i := 0; i+4 <= len(b); i += 4 {
		var r uint32
		if bigEndian {
			r = uint32(b[i])<<24 | uint32(b[i+1])<<16 | uint32(b[i+2])<<8 | uint32(b[i+3])
		} else {
			r = uint32(b[i+3])<<24 | uint32(b[i+2])<<16 | uint32(b[i+1])<<8 | uint32(b[i])
		}
		sb.WriteRune(rune(r))
	}
	return sb.String()
}

// shlexSplit is Python's shlex.split (POSIX mode): pip splits a line's
// options with it.
func shlexSplit(s string) ([]string, error) {
	if !strings.ContainsAny(s, `'"\`) {
		return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == '\t' || r == '\r' || r == '\n' }), nil
	}
	var words []string
	var word strings.Builder
	inWord, quote := false, rune(0)
	escaped := false
	for _, r := range s {
		switch {
		case escaped:
			// Inside double quotes only \" and \\ are escapes.
			if quote == '"' && r != '"' && r != '\\' {
				word.WriteByte('\\')
			}
			word.WriteRune(r)
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case quote == '"':
			switch r {
			case '"':
				quote = 0
			case '\\':
				escaped = true
			default:
				word.WriteRune(r)
			}
		case r == ' ' || r == '\t' || r == '\r' || r == '\n':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		case r == '\\':
			escaped, inWord = true, true
		case r == '\'' || r == '"':
			quote, inWord = r, true
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	switch {
	case escaped:
		return nil, errors.New("no escaped character")
	case quote != 0:
		return nil, errors.New("no closing quotation")
	case inWord:
		words = append(words, word.String())
	}
	return words, nil
}

// ---- options ----

type optionKind int

const (
	optIndexURL optionKind = iota
	optExtraIndexURL
	optNoIndex
	optConstraint
	optRequirement
	optEditable
	optFindLinks
	optNoBinary
	optOnlyBinary
	optPreferBinary
	optRequireHashes
	optNoRequireHashes
	optPre
	optAllReleases
	optOnlyFinal
	optTrustedHost
	optUseFeature
	optHash
	optConfigSettings
)

// longOptions are the long options pip 26 accepts in requirements files.
var longOptions = map[string]optionKind{
	"--index-url":         optIndexURL,
	"--pypi-url":          optIndexURL,
	"--extra-index-url":   optExtraIndexURL,
	"--no-index":          optNoIndex,
	"--constraint":        optConstraint,
	"--requirement":       optRequirement,
	"--editable":          optEditable,
	"--find-links":        optFindLinks,
	"--no-binary":         optNoBinary,
	"--only-binary":       optOnlyBinary,
	"--prefer-binary":     optPreferBinary,
	"--require-hashes":    optRequireHashes,
	"--no-require-hashes": optNoRequireHashes,
	"--pre":               optPre,
	"--all-releases":      optAllReleases,
	"--only-final":        optOnlyFinal,
	"--trusted-host":      optTrustedHost,
	"--use-feature":       optUseFeature,
	"--hash":              optHash,
	"--config-settings":   optConfigSettings,
}

var shortOptions = map[rune]optionKind{
	'i': optIndexURL, 'c': optConstraint, 'r': optRequirement,
	'e': optEditable, 'f': optFindLinks, 'C': optConfigSettings,
}

var longOptionNames = func() []string {
	names := make([]string, 0, len(longOptions))
	for n := range longOptions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}()

func takesValue(k optionKind) bool {
	switch k {
	case optNoIndex, optPreferBinary, optRequireHashes, optNoRequireHashes, optPre:
		return false
	}
	return true
}

// lineOptions are the options found on one line.
type lineOptions struct {
	requirements, constraints, editables []string
	hashes                               []string
	indexURL                             string
	extraIndexURLs, findLinks            []string
	noIndex, pre                         bool
}

// matchLong is optparse's _match_abbrev: an exact name, or the only long
// option the prefix starts.
func matchLong(opt string) (string, error) {
	if _, ok := longOptions[opt]; ok {
		return opt, nil
	}
	var matches []string
	for _, n := range longOptionNames {
		if strings.HasPrefix(n, opt) {
			matches = append(matches, n)
		}
	}
	switch len(matches) {
	case 0:
		return "", fmt.Errorf("no such option: %s", opt)
	case 1:
		return matches[0], nil
	}
	return "", fmt.Errorf("ambiguous option: %s (%s?)", opt, strings.Join(matches, ", "))
}

// parseOptions is optparse's parse_args over one line's option words.
// Positional words among the options are ignored, as pip ignores them.
func (p *reqParser) parseOptions(words []string) (lineOptions, error) {
	var o lineOptions
	for len(words) > 0 {
		w := words[0]
		words = words[1:]
		var (
			name  string
			kind  optionKind
			value string
		)
		switch {
		case w == "--":
			return o, nil
		case strings.HasPrefix(w, "--"):
			opt, v, explicit := strings.Cut(w, "=")
			var err error
			if name, err = matchLong(opt); err != nil {
				return o, err
			}
			kind = longOptions[name]
			switch {
			case takesValue(kind) && explicit:
				value = v
			case takesValue(kind):
				if len(words) == 0 {
					return o, fmt.Errorf("%s option requires 1 argument", name)
				}
				value, words = words[0], words[1:]
			case explicit:
				return o, fmt.Errorf("%s option does not take a value", name)
			}
		case strings.HasPrefix(w, "-") && len(w) > 1:
			r, size := utf8.DecodeRuneInString(w[1:])
			name = "-" + string(r)
			var ok bool
			if kind, ok = shortOptions[r]; !ok {
				return o, fmt.Errorf("no such option: %s", name)
			}
			// Every short option takes a value: the rest of the word or the next word.
			if rest := w[1+size:]; rest != "" {
				value = rest
			} else if len(words) > 0 {
				value, words = words[0], words[1:]
			} else {
				return o, fmt.Errorf("%s option requires 1 argument", name)
			}
		default:
			continue
		}
		if err := p.applyOption(&o, kind, name, value); err != nil {
			return o, err
		}
	}
	return o, nil
}

func (p *reqParser) applyOption(o *lineOptions, kind optionKind, name, value string) error {
	switch kind {
	case optIndexURL:
		o.indexURL = value
	case optExtraIndexURL:
		o.extraIndexURLs = append(o.extraIndexURLs, value)
	case optNoIndex:
		o.noIndex = true
	case optConstraint:
		o.constraints = append(o.constraints, value)
	case optRequirement:
		o.requirements = append(o.requirements, value)
	case optEditable:
		o.editables = append(o.editables, value)
	case optFindLinks:
		o.findLinks = append(o.findLinks, value)
	case optNoBinary:
		return formatControl(value, &p.noBinary, &p.onlyBinary)
	case optOnlyBinary:
		return formatControl(value, &p.onlyBinary, &p.noBinary)
	case optPre:
		o.pre = true
	case optHash:
		algo, _, ok := strings.Cut(value, ":")
		if !ok {
			return fmt.Errorf("arguments to %s must be a hash name followed by a value, like --hash=sha256:abcde…", name)
		}
		if algo != "sha256" && algo != "sha384" && algo != "sha512" {
			return fmt.Errorf("allowed hash algorithms for %s are sha256, sha384, sha512", name)
		}
		o.hashes = append(o.hashes, value)
	case optConfigSettings:
		if !strings.Contains(value, "=") {
			return fmt.Errorf("arguments to %s must be of the form KEY=VAL", name)
		}
	}
	// The rest (--prefer-binary, --require-hashes, --trusted-host, …) do not
	// change which packages a file names.
	return nil
}

// formatControl is pip's FormatControl.handle_mutual_excludes.
func formatControl(value string, target, other *[]string) error {
	if strings.HasPrefix(value, "-") {
		return errors.New("--no-binary / --only-binary option requires 1 argument")
	}
	parts := strings.Split(value, ",")
	for i := slices.Index(parts, ":all:"); i >= 0; i = slices.Index(parts, ":all:") {
		*other, *target = nil, []string{":all:"}
		parts = parts[i+1:]
		if !slices.Contains(parts, ":none:") {
			return nil
		}
	}
	for _, n := range parts {
		if n == ":none:" {
			*target = nil
			continue
		}
		if n = pep508.NormalizeName(n); n == "" {
			continue
		}
		*other = slices.DeleteFunc(*other, func(s string) bool { return s == n })
		*target = appendUnique(*target, n)
	}
	return nil
}

// ---- URLs and file names ----

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
