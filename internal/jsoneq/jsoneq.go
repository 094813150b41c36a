// Package jsoneq compares JSON documents the way fedi defines a lossless
// round trip: equal after dropping the top-level @context, dropping
// members whose value is null, and unwrapping one-element arrays, with
// numbers compared by value.
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
func Normalize(v any, top bool) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, val := range x {
			if top && k == "@context" {
				continue
			}
			n := Normalize(val, false)
			if n == nil {
				continue
			}
			out[k] = n
		}
		return out
	case []any:
		if len(x) == 1 {
			return Normalize(x[0], false)
		}
		out := make([]any, len(x))
		for i, el := range x {
			out[i] = Normalize(el, false)
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
func Equal(a, b []byte) (bool, string) {
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
			arr[i] = Normalize(arr[i], true)
		}
	} else {
		va = Normalize(va, true)
	}
	if arr, ok := vb.([]any); ok {
		for i := range arr {
			arr[i] = Normalize(arr[i], true)
		}
	} else {
		vb = Normalize(vb, true)
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
// document, or "".
func Duplicate(data []byte) string {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var walk func(path string) string
	walk = func(path string) string {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return ""
				}
				key, _ := k.(string)
				if seen[key] {
					return path + "." + key
				}
				seen[key] = true
				if r := walk(path + "." + key); r != "" {
					return r
				}
			}
			_, _ = dec.Token()
		case json.Delim('['):
			for i := 0; dec.More(); i++ {
				if r := walk(fmt.Sprintf("%s[%d]", path, i)); r != "" {
					return r
				}
			}
			_, _ = dec.Token()
		}
		return ""
	}
	return walk("$")
}
