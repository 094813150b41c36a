// Package jsoneq compares JSON documents the way fedi defines a lossless
// round trip: equal after dropping the top-level @context, dropping
// members whose value is null, and unwrapping one-element arrays, with
// numbers compared by value. Strict is the stronger promise the README
// makes on top: those forms too come back as they were.
package jsoneq

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"sort"
	"strings"
)

// Normalize prepares a JSON value for the lossless comparison: it drops
// the top-level @context, drops members whose value is null, and unwraps
// one-element arrays. Numbers compare by value.
func Normalize(v any, top bool) any { return normalize(v, top, true) }

// normalize drops the top-level @context and compares numbers by value;
// when loose is set it also drops null members and unwraps one-element
// arrays.
func normalize(v any, top, loose bool) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if top && k == "@context" {
				continue
			}
			n := normalize(val, false, loose)
			if n == nil && loose {
				continue
			}
			out[k] = n
		}
		return out
	case []any:
		if len(x) == 1 && loose {
			return normalize(x[0], false, loose)
		}
		out := make([]any, len(x))
		for i, el := range x {
			out[i] = normalize(el, false, loose)
		}
		return out
	case json.Number:
		f, _, err := big.ParseFloat(string(x), 10, 200, big.ToNearestEven)
		if err != nil {
			return string(x)
		}
		return "#" + f.Text('g', 60)
	}
	return v
}

// Parse reads a JSON document keeping numbers as json.Number.
func Parse(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	err := dec.Decode(&v)
	return v, err
}

// Equal compares two documents after Normalize and describes the first
// difference. A document with a duplicate member is never equal to
// anything: encoding/json would silently keep one of the two values.
func Equal(a, b []byte) (bool, string) { return equal(a, b, true) }

// Strict is Equal without its allowances for null members and
// one-element arrays: a member that was null must still be null, and a
// single value must not have become an array or the other way round. Only
// the top-level @context may differ, and numbers compare by value.
func Strict(a, b []byte) (bool, string) { return equal(a, b, false) }

func equal(a, b []byte, loose bool) (bool, string) {
	if d := Duplicate(a); d != "" {
		return false, "first document: duplicate member " + d
	}
	if d := Duplicate(b); d != "" {
		return false, "second document: duplicate member " + d
	}
	va, err := Parse(a)
	if err != nil {
		return false, "first document: " + err.Error()
	}
	vb, err := Parse(b)
	if err != nil {
		return false, "second document: " + err.Error()
	}
	if arr, ok := va.([]any); ok {
		for i := range arr {
			arr[i] = normalize(arr[i], true, loose)
		}
	} else {
		va = normalize(va, true, loose)
	}
	if arr, ok := vb.([]any); ok {
		for i := range arr {
			arr[i] = normalize(arr[i], true, loose)
		}
	} else {
		vb = normalize(vb, true, loose)
	}
	if d := diff("$", va, vb); d != "" {
		return false, d
	}
	return true, ""
}

func diff(path string, a, b any) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: object became %s", path, short(b))
		}
		keys := make([]string, 0, len(x)+len(y))
		for k := range x {
			keys = append(keys, k)
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			va, oka := x[k]
			vb, okb := y[k]
			switch {
			case !oka:
				return fmt.Sprintf("%s.%s: added %s", path, k, short(vb))
			case !okb:
				return fmt.Sprintf("%s.%s: lost %s", path, k, short(va))
			}
			if d := diff(path+"."+k, va, vb); d != "" {
				return d
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return fmt.Sprintf("%s: %s became %s", path, short(a), short(b))
		}
		for i := range x {
			if d := diff(fmt.Sprintf("%s[%d]", path, i), x[i], y[i]); d != "" {
				return d
			}
		}
		return ""
	}
	if a != b {
		return fmt.Sprintf("%s: %s became %s", path, short(a), short(b))
	}
	return ""
}

func short(v any) string {
	b, _ := json.Marshal(v)
	s := string(b)
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return s
}

// Duplicate returns the path of the first duplicate member of a JSON
// document, or "". It stops at the first syntax error, returning what it
// found before it: Parse reports the error itself.
func Duplicate(data []byte) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	// walk reads one value. Every loop stops at the first error: on
	// malformed input More can keep reporting another element that Token
	// then refuses, forever.
	var walk func(path string) (string, error)
	walk = func(path string) (string, error) {
		tok, err := dec.Token()
		if err != nil {
			return "", err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return "", err
				}
				key, _ := k.(string)
				if seen[key] {
					return path + "." + key, nil
				}
				seen[key] = true
				if r, err := walk(path + "." + key); r != "" || err != nil {
					return r, err
				}
			}
			_, err = dec.Token()
			return "", err
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if r, err := walk(fmt.Sprintf("%s[%d]", path, i)); r != "" || err != nil {
					return r, err
				}
			}
			_, err = dec.Token()
			return "", err
		}
		return "", nil
	}
	dup, _ := walk("$")
	return dup
}
