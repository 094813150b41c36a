package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// event is one line of go test -json: a test event (cmd/test2json) or a
// build event (go help buildjson).
type event struct {
	Action      string
	Package     string
	Test        string
	Elapsed     float64
	Output      string
	ImportPath  string // build events
	FailedBuild string
}

// testKey names one test of one package; Test is "" for the package.
type testKey struct{ pkg, test string }

// skip is a skipped test, and the allowance that expected it, if any.
type skip struct {
	testKey
	message string
	allowed *allowance
}

// reporter follows a go test -json stream. As it goes, it writes a line
// per package and the output of each test that fails; at the end, the
// skipped tests, the failures and a verdict.
type reporter struct {
	out        io.Writer
	module     string
	allowances []*allowance
	skipsFile  string

	output   map[testKey][]string // output of the tests and packages still running
	running  map[testKey]bool
	buildOut map[string][]string // build output by import path

	passed, failed   []testKey
	skipped          []skip
	pkgOK, pkgNoTest int
	pkgFailed        []string
	buildFailed      []string
	failedIn         map[string]bool // packages with a failed test already shown
	neverFinished    []testKey       // tests still running when their package ended
	stray            int             // lines that were not JSON
}

func newReporter(out io.Writer, module string, allowances []*allowance, skipsFile string) *reporter {
	return &reporter{
		out: out, module: module, allowances: allowances, skipsFile: skipsFile,
		output: map[testKey][]string{}, running: map[testKey]bool{}, buildOut: map[string][]string{},
		failedIn: map[string]bool{},
	}
}

// read consumes the stream.
func (r *reporter) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var e event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil {
			// go test writes some things outside the JSON stream, such as
			// a failure to load packages: show them as they are.
			r.stray++
			fmt.Fprintf(r.out, "%s\n", line)
			continue
		}
		r.event(e)
	}
	return sc.Err()
}

func (r *reporter) event(e event) {
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "build-output":
		r.buildOut[e.ImportPath] = append(r.buildOut[e.ImportPath], e.Output)
	case "build-fail":
		r.buildFailed = append(r.buildFailed, e.ImportPath)
		fmt.Fprintf(r.out, "BUILD FAILED %s\n%s", e.ImportPath, strings.Join(r.buildOut[e.ImportPath], ""))
		delete(r.buildOut, e.ImportPath)
	case "run":
		r.running[k] = true
	case "output":
		r.output[k] = append(r.output[k], e.Output)
	case "pass", "bench":
		if e.Test == "" {
			r.pkgOK++
			fmt.Fprintf(r.out, "ok   %s (%.1fs)\n", r.short(e.Package), e.Elapsed)
			r.neverFinished = append(r.neverFinished, r.unfinished(e.Package)...)
		} else {
			r.passed = append(r.passed, k)
		}
		r.done(k)
	case "skip":
		if e.Test == "" {
			r.pkgNoTest++ // no test files, or no test matched
		} else {
			r.skipped = append(r.skipped, r.classify(k, skipMessage(r.output[k])))
		}
		r.done(k)
	case "fail":
		if e.Test != "" {
			r.failed = append(r.failed, k)
			r.failedIn[e.Package] = true
			fmt.Fprintf(r.out, "--- FAIL: %s %s (%.2fs)\n%s", r.short(e.Package), e.Test, e.Elapsed, indent(r.output[k]))
			r.done(k)
			return
		}
		r.pkgFailed = append(r.pkgFailed, e.Package)
		fmt.Fprintf(r.out, "FAIL %s (%.1fs)\n", r.short(e.Package), e.Elapsed)
		if e.FailedBuild == "" && !r.failedIn[e.Package] {
			// No test said why (a panic outside a test, a timeout, a
			// failing TestMain): show what the package printed, and the
			// output of the tests that never finished.
			fmt.Fprint(r.out, indent(r.output[k]))
			for _, t := range r.unfinished(e.Package) {
				fmt.Fprintf(r.out, "    --- %s, which never finished:\n%s", t.test, indent(r.output[t]))
			}
		}
		r.neverFinished = append(r.neverFinished, r.unfinished(e.Package)...)
		r.done(k)
	}
}

// done forgets the output of a test or package that has finished, and
// for a package, of its tests.
func (r *reporter) done(k testKey) {
	delete(r.output, k)
	delete(r.running, k)
	if k.test == "" {
		for t := range r.running {
			if t.pkg == k.pkg {
				delete(r.running, t)
				delete(r.output, t)
			}
		}
	}
}

func (r *reporter) unfinished(pkg string) []testKey {
	var out []testKey
	for t := range r.running {
		if t.pkg == pkg && t.test != "" {
			out = append(out, t)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].test < out[j].test })
	return out
}

func (r *reporter) classify(k testKey, msg string) skip {
	s := skip{testKey: k, message: msg}
	for _, a := range r.allowances {
		if a.matches(r.module, k.pkg, k.test, msg) {
			a.matched++
			s.allowed = a
			break
		}
	}
	return s
}

// skipMessage keeps what a skipped test printed, without go test's own
// framing lines.
func skipMessage(output []string) string {
	var lines []string
	for _, chunk := range output {
		for _, l := range strings.Split(strings.TrimRight(chunk, "\n"), "\n") {
			t := strings.TrimSpace(l)
			if t == "" || strings.HasPrefix(t, "=== ") || strings.HasPrefix(t, "--- SKIP") {
				continue
			}
			lines = append(lines, t)
		}
	}
	return strings.Join(lines, " / ")
}

// short returns an import path relative to the module, "." for the
// module's root package.
func (r *reporter) short(pkg string) string {
	if r.module == "" {
		return pkg
	}
	if pkg == r.module {
		return "."
	}
	if rest, ok := strings.CutPrefix(pkg, r.module+"/"); ok {
		return rest
	}
	return pkg
}

func indent(output []string) string {
	var b strings.Builder
	for _, chunk := range output {
		for _, l := range strings.SplitAfter(chunk, "\n") {
			if l != "" {
				b.WriteString("    ")
				b.WriteString(l)
			}
		}
	}
	if s := b.String(); s != "" && !strings.HasSuffix(s, "\n") {
		b.WriteByte('\n')
	}
	return b.String()
}

// summary writes the end of the report and reports whether the run
// passed: every test that started finished, none failed, no package or
// build failed, every skip was expected, and some test ran.
func (r *reporter) summary() bool {
	w := r.out
	var unexpected int
	fmt.Fprintf(w, "\n== test report\n")
	fmt.Fprintf(w, "packages: %d ok, %d failed, %d without tests\n", r.pkgOK, len(r.pkgFailed), r.pkgNoTest)
	for _, s := range r.skipped {
		if s.allowed == nil {
			unexpected++
		}
	}
	fmt.Fprintf(w, "tests: %d passed, %d failed, %d skipped (%d expected, %d not expected)\n",
		len(r.passed), len(r.failed), len(r.skipped), len(r.skipped)-unexpected, unexpected)

	if len(r.skipped) > 0 {
		fmt.Fprintf(w, "\nskipped tests:\n")
		sort.SliceStable(r.skipped, func(i, j int) bool {
			a, b := r.skipped[i], r.skipped[j]
			return a.pkg < b.pkg || a.pkg == b.pkg && a.test < b.test
		})
		for _, s := range r.skipped {
			fmt.Fprintf(w, "  SKIP %s %s: %s\n", r.short(s.pkg), s.test, s.message)
			if s.allowed != nil {
				fmt.Fprintf(w, "       expected (%s:%d): %s\n", r.skipsFile, s.allowed.line, s.allowed.reason)
			} else if r.skipsFile != "" {
				fmt.Fprintf(w, "       NOT EXPECTED: make it run, or add it to %s with its reason\n", r.skipsFile)
			} else {
				fmt.Fprintf(w, "       NOT EXPECTED: make it run, or list it in an -expected-skips file with its reason\n")
			}
		}
	}
	var idle []*allowance
	for _, a := range r.allowances {
		if a.matched == 0 {
			idle = append(idle, a)
		}
	}
	if len(idle) > 0 {
		fmt.Fprintf(w, "\nexpected skips that did not happen (fine, if the reason did not arise):\n")
		for _, a := range idle {
			fmt.Fprintf(w, "  %s:%d: %s\n", r.skipsFile, a.line, a.rawEntry)
		}
	}

	var problems []string
	for _, k := range r.failed {
		problems = append(problems, fmt.Sprintf("FAIL %s %s", r.short(k.pkg), k.test))
	}
	for _, p := range r.pkgFailed {
		problems = append(problems, "FAIL "+r.short(p))
	}
	for _, p := range r.buildFailed {
		problems = append(problems, "BUILD FAILED "+p)
	}
	for _, t := range r.unfinishedAll() {
		problems = append(problems, fmt.Sprintf("NEVER FINISHED %s %s", r.short(t.pkg), t.test))
	}
	if unexpected > 0 {
		problems = append(problems, fmt.Sprintf("%d skipped tests were not expected", unexpected))
	}
	if len(r.passed)+len(r.failed)+len(r.skipped) == 0 {
		problems = append(problems, "no test ran")
	}
	if len(problems) > 0 {
		fmt.Fprintf(w, "\nthe run failed:\n")
		for _, p := range problems {
			fmt.Fprintf(w, "  %s\n", p)
		}
		return false
	}
	fmt.Fprintf(w, "\nthe run passed\n")
	return true
}

// unfinishedAll lists the tests that never finished: those still
// running when their package ended, and those still running when the
// stream did.
func (r *reporter) unfinishedAll() []testKey {
	out := append([]testKey(nil), r.neverFinished...)
	for k := range r.running {
		if k.test != "" {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].pkg < out[j].pkg || out[i].pkg == out[j].pkg && out[i].test < out[j].test
	})
	return out
}
