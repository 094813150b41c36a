package main

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// An allowance is one line of the expected-skips file: the skips CI
// expects, and why.
//
// A line is
//
//	PACKAGE TEST ["MESSAGE"] REASON
//
// PACKAGE is an import path, or one relative to the module
// (storage/sqlite); a trailing /... takes in the packages below it, and
// ... alone every package. TEST is a test name as go test prints it
// (TestQueue/lease_extends), where * stands for any run of characters,
// slashes included. MESSAGE, a Go string literal, when present, must
// appear in what the test printed when it skipped. REASON says why the
// skip is expected; it is required. Blank lines and lines starting with #
// are ignored.
type allowance struct {
	line     int
	pkg      string
	test     string
	message  string
	reason   string
	matched  int
	rawEntry string
}

// parseAllowances reads an expected-skips file.
func parseAllowances(r io.Reader, name string) ([]*allowance, error) {
	var out []*allowance
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		a := &allowance{line: n, rawEntry: line}
		var rest string
		a.pkg, rest = cutField(line)
		a.test, rest = cutField(rest)
		if strings.HasPrefix(rest, `"`) {
			lit, err := strconv.QuotedPrefix(rest)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: the message is not a Go string literal: %v", name, n, err)
			}
			a.message, _ = strconv.Unquote(lit)
			rest = strings.TrimSpace(rest[len(lit):])
		}
		a.reason = rest
		if a.pkg == "" || a.test == "" || a.reason == "" {
			return nil, fmt.Errorf("%s:%d: want PACKAGE TEST [\"MESSAGE\"] REASON, got %q", name, n, line)
		}
		out = append(out, a)
	}
	return out, sc.Err()
}

func cutField(s string) (field, rest string) {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, " \t"); i >= 0 {
		return s[:i], strings.TrimSpace(s[i:])
	}
	return s, ""
}

// matches reports whether the allowance covers a skip of test in pkg,
// whose skip message is msg; module is the module's path, for package
// patterns relative to it.
func (a *allowance) matches(module, pkg, test, msg string) bool {
	return matchPackage(a.pkg, module, pkg) && matchName(a.test, test) && strings.Contains(msg, a.message)
}

func matchPackage(pattern, module, pkg string) bool {
	if pattern == "..." {
		return true
	}
	for _, p := range []string{pattern, module + "/" + pattern} {
		if base, ok := strings.CutSuffix(p, "/..."); ok {
			if pkg == base || strings.HasPrefix(pkg, base+"/") {
				return true
			}
		} else if pkg == p {
			return true
		}
	}
	return false
}

// matchName matches name against pattern, where * stands for any run of
// characters.
func matchName(pattern, name string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == name
	}
	if !strings.HasPrefix(name, parts[0]) {
		return false
	}
	name = name[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(name, p)
		if i < 0 {
			return false
		}
		name = name[i+len(p):]
	}
	return len(name) >= len(last) && strings.HasSuffix(name, last)
}
