package resolver

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/layers-dev/layers/internal/pep508"
)

// Options are parsed as optparse does, abbreviations included, so that a
// file pip accepts is accepted here and one it rejects fails at the same line.

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
			if rel, err := p.repoPath(path.Dir(file), v); err == nil {
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
