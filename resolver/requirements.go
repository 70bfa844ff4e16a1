package resolver

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/layers-dev/layers/internal/diag"
	"github.com/layers-dev/layers/internal/pep508"
	"github.com/layers-dev/layers/internal/repofs"
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
	if _, err := repofs.Rel(rootAbs, ".", rel); err != nil {
		var o *repofs.OutsideError
		errors.As(err, &o)
		return nil, &diag.Error{Path: rel, Msg: o.Reason(), Err: err}
	}
	if fi, err := fs.Stat(fsys, rel); err == nil && fi.IsDir() {
		return nil, diag.Errorf(rel, 0, "not a file: a requirements file must be a regular file")
	}
	data, err := repofs.Read(fsys, rel)
	if err != nil {
		if diag.IsInput(err) {
			return nil, err
		}
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
	rel, err := p.repoPath(path.Dir(file), target)
	if err != nil {
		var o *repofs.OutsideError
		if errors.As(err, &o) && o.Written == target {
			o.Written = written // a file: URL as written
		}
		return p.errorf(file, line, "%s file %v", kind, err)
	}
	for i, f := range p.stack {
		if f == rel {
			chain := strings.Join(append(slices.Clone(p.stack[i:]), rel), " -> ")
			return p.errorf(file, line, "include cycle: %s", chain)
		}
	}
	data, err := repofs.Read(p.fsys, rel)
	if err != nil {
		reason := err.Error()
		var pe *fs.PathError
		var de *diag.Error
		switch {
		case errors.Is(err, fs.ErrNotExist):
			reason = "no such file"
		case errors.As(err, &de):
			reason = de.Msg
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
// to the root; it is an error when the path leaves the repository, as
// written or through a symbolic link.
func (p *reqParser) repoPath(dir, written string) (string, error) {
	return repofs.Rel(p.rootAbs, dir, written)
}

// locate finds the file or folder a local requirement names: relative to the
// naming file's folder first, then to the root. When neither exists it
// returns the first candidate inside the repository with a nil info. out
// is why no candidate is inside the repository, or why the one that
// exists is not.
func (p *reqParser) locate(dir, written string) (rel string, info fs.FileInfo, out error) {
	candidates := []string{dir}
	if dir != "." && !strings.HasPrefix(written, "/") {
		candidates = append(candidates, ".")
	}
	found := false
	for _, d := range candidates {
		r, err := p.repoPath(d, written)
		if err != nil && linkOut(err) && !found {
			return "", nil, err // the link is there: it is what the path names
		}
		if err != nil {
			if out == nil {
				out = err
			}
			continue
		}
		if !found {
			rel, found = r, true
		}
		if fi, err := fs.Stat(p.fsys, r); err == nil {
			return r, fi, nil
		}
	}
	if found {
		out = nil
	}
	return rel, nil, out
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
		rel, fi, out := p.locate(dir, written)
		if out != nil && linkOut(out) {
			return r, p.errorf(file, line, "%v", out)
		}
		if fi != nil && fi.IsDir() {
			x, err := p.parseExtras(file, line, extras)
			if err != nil {
				return r, err
			}
			r.Extras = x
			return p.localRequirement(r, rel, written, "", true)
		}
	}
	if isArchive(written) {
		rel, fi, out := p.locate(dir, written)
		at := strings.Index(name, "@")
		if fi == nil && out == nil && at >= 0 && !looksLikePath(name[:at]) {
			return p.pep508Requirement(r, name)
		}
		if out != nil {
			return r, p.errorf(file, line, "%v", out)
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
	// A wheel's file name is its identity: pip refuses one it cannot parse
	// or that names another project, so plan must too.
	if base := urlBase(req.URL); req.URL != "" && !isVCS(req.URL) && strings.HasSuffix(base, ".whl") {
		n, _, err := wheelNameVersion(base)
		if err != nil {
			return r, p.errorf(r.Path, r.Line, "%v", err)
		}
		if n != pep508.NormalizeName(req.Name) {
			return r, p.errorf(r.Path, r.Line, "%s @ %s: the wheel is of project %s", req.Name, req.URL, n)
		}
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
	rel, fi, out := p.locate(path.Dir(r.Path), local)
	switch {
	case out != nil:
		return r, p.errorf(r.Path, r.Line, "%v", out)
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

// linkOut reports whether err says a symbolic link leads out of the
// repository. A path that leaves it as written may still be a requirement
// of another form; one that exists only through such a link is refused.
func linkOut(err error) bool {
	var o *repofs.OutsideError
	return errors.As(err, &o) && o.Link != ""
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
	rel, fi, out := p.locate(path.Dir(file), link)
	if out != nil && linkOut(out) {
		return r, p.errorf(file, line, "%v", out)
	}
	if fi != nil && fi.IsDir() {
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
			if out != nil {
				return r, p.errorf(file, line, "%s is outside the repository", value)
			}
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
	rel, fi, out := p.locate(path.Dir(r.Path), local)
	switch {
	case out != nil:
		return r, p.errorf(r.Path, r.Line, "%v", out)
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

// ---- options ----
