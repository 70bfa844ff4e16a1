package resolver

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// pip's preprocessing of a requirements file, down to its quirks (Python's
// splitlines, comment rules, byte-order marks): a line pip reads differently
// would name another package, and every message gives the line editors show.

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
