// Package diag owns the one error shape every input problem takes: the file,
// the line, and what is wrong, printed as "path:line: what is wrong".
//
// The CLI maps any *diag.Error in a chain to exit status 2 (bad input), so
// parsers return these for malformed input and plain wrapped errors for
// everything else (I/O failures, engine errors).
package diag

import (
	"errors"
	"fmt"

	"github.com/layers-dev/layers/internal/redact"
)

// Error is a problem with a user's input at a known place.
type Error struct {
	Path string // file path as the user would recognise it (relative when possible)
	Line int    // 1-based; 0 when the problem concerns the whole file
	Msg  string
	Err  error // optional cause, kept for errors.Is/As
}

// Errorf returns an *Error at path:line with a formatted message.
func Errorf(path string, line int, format string, args ...any) *Error {
	return &Error{Path: path, Line: line, Msg: fmt.Sprintf(format, args...)}
}

// Wrap returns an *Error at path:line whose message is err's text.
func Wrap(path string, line int, err error) *Error {
	return &Error{Path: path, Line: line, Msg: err.Error(), Err: err}
}

// Error is the message with the credentials of any URL in it hidden: a
// message may quote a requirement line as written.
func (e *Error) Error() string {
	if e.Line > 0 {
		return redact.Text(fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg))
	}
	return redact.Text(fmt.Sprintf("%s: %s", e.Path, e.Msg))
}

func (e *Error) Unwrap() error { return e.Err }

// IsInput reports whether err (or anything it wraps) is an input error.
func IsInput(err error) bool {
	var d *Error
	return errors.As(err, &d)
}

// Relocate rewrites with f the path of every *Error in err's tree (wrapped
// errors and joined ones), in place and once each: the CLI shows each
// input path the way the user's shell reaches it.
func Relocate(err error, f func(string) string) {
	relocate(err, f, map[*Error]bool{})
}

func relocate(err error, f func(string) string, seen map[*Error]bool) {
	if e, ok := err.(*Error); ok && !seen[e] {
		seen[e] = true
		e.Path = f(e.Path)
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		if next := u.Unwrap(); next != nil {
			relocate(next, f, seen)
		}
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			relocate(e, f, seen)
		}
	}
}
