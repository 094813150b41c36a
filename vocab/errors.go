package vocab

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every error returned by Decode wraps exactly one of them,
// so callers can branch with errors.Is and still print a precise message.
var (
	// ErrSyntax reports a document that is not valid JSON.
	ErrSyntax = errors.New("vocab: invalid JSON")
	// ErrInvalidUTF8 reports a string that is not valid UTF-8.
	ErrInvalidUTF8 = errors.New("vocab: invalid UTF-8")
	// ErrTooDeep reports nesting beyond Options.MaxDepth.
	ErrTooDeep = errors.New("vocab: nesting too deep")
	// ErrTooLarge reports a document beyond Options.MaxBytes.
	ErrTooLarge = errors.New("vocab: document too large")
	// ErrNotObject reports a document whose top level is not a JSON object
	// (or an array of objects).
	ErrNotObject = errors.New("vocab: not an ActivityStreams object")
	// ErrInvalidIRI reports a string in an IRI position that cannot be an IRI.
	ErrInvalidIRI = errors.New("vocab: invalid IRI")
	// ErrPropertyType reports a core property whose JSON type can never be
	// valid for it, such as a number as "actor".
	ErrPropertyType = errors.New("vocab: property has the wrong JSON type")
	// ErrContext reports an @context that cannot be used.
	ErrContext = errors.New("vocab: unusable @context")
	// ErrConflict reports vocabularies that define the same term differently.
	ErrConflict = errors.New("vocab: conflicting definitions")
	// ErrEncode reports an item that cannot be written as JSON.
	ErrEncode = errors.New("vocab: cannot encode")
	// ErrInvalid reports a decoded item that breaks an ActivityStreams rule;
	// see Validate.
	ErrInvalid = errors.New("vocab: invalid ActivityStreams document")
)

// DecodeError says what is wrong with a document and where.
type DecodeError struct {
	Err    error  // one of the sentinel errors above
	Path   string // JSON path of the offending value, such as "$.object.tag[0].href"
	Offset int    // byte offset in the input
	Line   int    // 1-based line of Offset
	Column int    // 1-based column of Offset
	Detail string // what exactly is wrong
}

func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if e.Path != "" {
		b.WriteString(" at ")
		b.WriteString(e.Path)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, " (line %d, column %d)", e.Line, e.Column)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the sentinel error.
func (e *DecodeError) Unwrap() error { return e.Err }

// ConflictError names the two vocabularies that disagree about a term.
type ConflictError struct {
	Term   string // the contested term or type name
	First  string // the vocabulary that defined it first
	Second string // the vocabulary that defined it differently
	Detail string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("vocab: conflicting definitions of %q: %s and %s disagree: %s", e.Term, e.First, e.Second, e.Detail)
}

// Unwrap returns ErrConflict.
func (e *ConflictError) Unwrap() error { return ErrConflict }

// ValidationError lists every rule a decoded document breaks.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString(ErrInvalid.Error())
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.String())
	}
	return b.String()
}

// Unwrap returns ErrInvalid.
func (e *ValidationError) Unwrap() error { return ErrInvalid }

// Problem is one rule broken by a decoded document. Problems never stop a
// document from decoding; Validate reports them.
type Problem struct {
	Path     string // JSON path of the value, "$" for the document
	Message  string
	Severity Severity
}

func (p Problem) String() string { return p.Path + ": " + p.Message }

// Severity says how serious a Problem is.
type Severity uint8

const (
	// SeverityWarning marks a deviation that peers commonly make and that
	// the decoder repaired, such as a missing @context or a timestamp
	// without offset.
	SeverityWarning Severity = iota
	// SeverityError marks a broken ActivityStreams rule, such as an ordered
	// collection listing "items" or an invalid language tag.
	SeverityError
)

func (s Severity) String() string {
	if s == SeverityError {
		return "error"
	}
	return "warning"
}
