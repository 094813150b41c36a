package jsoneq_test

import (
	"strings"
	"testing"
	"time"

	"github.com/fedi-go/fedi/internal/jsoneq"
)

// within runs f and fails the test if it has not returned after a few
// seconds, so that a loop on bad input fails here instead of hanging the
// test binary until its timeout.
func within[T any](t *testing.T, f func() T) T {
	t.Helper()
	done := make(chan T, 1)
	go func() { done <- f() }()
	select {
	case v := <-done:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("did not return within 5s")
		panic("unreachable")
	}
}

func TestDuplicate(t *testing.T) {
	tests := []struct {
		doc, want string
	}{
		{`{"a":1,"b":2}`, ""},
		{`{"a":1,"a":2}`, "$.a"},
		{`{"a":{"b":[{"c":1},{"c":1,"c":2}]}}`, "$.a.b[1].c"},
		{`[{"x":1},{"x":1}]`, ""},
		{`[{"x":1},{"y":1,"y":1}]`, "$[1].y"},
		// Malformed documents: the walk stops at the error, keeping what
		// it found before it.
		{`["x"y]`, ""},
		{`{"a":1 "b":2}`, ""},
		{`{"a":1,"a":2,}`, "$.a"},
		{`{"a":[1 2],"b":1,"b":2}`, ""},
		{`[{"a":1}{"a":1}]`, ""},
		{`{"a"`, ""},
		{`[[[`, ""},
		{`}`, ""},
		{``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			got := within(t, func() string { return jsoneq.Duplicate([]byte(tt.doc)) })
			if got != tt.want {
				t.Errorf("Duplicate(%s) = %q, want %q", tt.doc, got, tt.want)
			}
		})
	}
}

func TestEqual(t *testing.T) {
	tests := []struct {
		name, a, b   string
		equal, loose bool   // loose: equal for Equal only, not for Strict
		diff         string // part of the description of the difference
	}{
		{name: "same", a: `{"a":1}`, b: `{"a":1}`, equal: true},
		{name: "member order", a: `{"a":1,"b":2}`, b: `{"b":2,"a":1}`, equal: true},
		{name: "top-level context", a: `{"@context":"x","a":1}`, b: `{"@context":["x","y"],"a":1}`, equal: true},
		{name: "nested context", a: `{"o":{"@context":"x"}}`, b: `{"o":{"@context":"y"}}`, diff: "$.o.@context"},
		{name: "numbers by value", a: `{"n":1.50}`, b: `{"n":15e-1}`, equal: true},
		{name: "other number", a: `{"n":1}`, b: `{"n":2}`, diff: "$.n"},
		{name: "null member", a: `{"a":1,"id":null}`, b: `{"a":1}`, loose: true, diff: "$.id: lost null"},
		{name: "null added", a: `{"a":1}`, b: `{"a":1,"b":null}`, loose: true, diff: "$.b: added null"},
		{name: "one-element array", a: `{"to":["x"]}`, b: `{"to":"x"}`, loose: true, diff: "$.to"},
		{name: "lost member", a: `{"a":1,"b":2}`, b: `{"a":1}`, diff: "$.b: lost"},
		{name: "duplicate", a: `{"a":1,"a":1}`, b: `{"a":1}`, diff: "duplicate member $.a"},
		{name: "malformed array", a: `{"a":1}`, b: `["x"y]`, diff: "second document: invalid character"},
		{name: "malformed object", a: `{"a" 1}`, b: `{"a":1}`, diff: "first document: invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				name  string
				f     func(a, b []byte) (bool, string)
				equal bool
			}{
				{"Equal", jsoneq.Equal, tt.equal || tt.loose},
				{"Strict", jsoneq.Strict, tt.equal},
			} {
				type result struct {
					ok   bool
					diff string
				}
				r := within(t, func() result {
					ok, diff := c.f([]byte(tt.a), []byte(tt.b))
					return result{ok, diff}
				})
				if r.ok != c.equal {
					t.Errorf("%s(%s, %s) = %v (%s), want %v", c.name, tt.a, tt.b, r.ok, r.diff, c.equal)
				}
				if !r.ok && !strings.Contains(r.diff, tt.diff) {
					t.Errorf("%s(%s, %s) says %q, want it to mention %q", c.name, tt.a, tt.b, r.diff, tt.diff)
				}
			}
		})
	}
}
