// Command testreport reads the output of go test -json on its standard
// input and reports it for people, failing the run on anything CI must not
// let pass:
//
//	go test -race -count=1 -json ./... | go run ./internal/ci/testreport -expected-skips .ci/expected-skips
//
// As the stream goes, it prints one line per package and, for each test
// that fails, its output; a package that fails with no failing test (a
// panic outside a test, a timeout) or does not build shows its output
// too. At the end it lists every skipped test with what it printed, and
// whether the expected-skips file expects it, with the reason written
// there. It exits with status 1 when a test or package failed, a package
// did not build, a test never finished, no test ran at all, or a test
// skipped that the file does not expect; with status 2 on bad usage.
//
// The expected-skips file has one line per expected skip:
//
//	PACKAGE TEST ["MESSAGE"] REASON
//
// such as
//
//	storage/sqlite TestDiskFull "cannot mount a tmpfs" the sandbox forbids mounts
//
// PACKAGE is relative to the module (or a full import path), and may end
// in /...; TEST may hold * for any run of characters; MESSAGE, if given,
// must appear in what the test printed as it skipped; REASON is required.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("testreport", flag.ContinueOnError)
	fs.SetOutput(stderr)
	skipsFile := fs.String("expected-skips", "", "the file of skips CI expects; without it, no skip is expected")
	module := fs.String("module", "", "the module path that PACKAGE patterns are relative to; by default, read from ./go.mod")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintln(stderr, "testreport: reads go test -json on standard input, and takes no arguments")
		return 2
	}
	if *module == "" {
		*module = modulePath("go.mod")
	}
	var allowances []*allowance
	if *skipsFile != "" {
		f, err := os.Open(*skipsFile)
		if err != nil {
			fmt.Fprintf(stderr, "testreport: %v\n", err)
			return 2
		}
		allowances, err = parseAllowances(f, *skipsFile)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "testreport: %v\n", err)
			return 2
		}
	}
	r := newReporter(stdout, *module, allowances, *skipsFile)
	if err := r.read(stdin); err != nil {
		fmt.Fprintf(stderr, "testreport: reading the test output: %v\n", err)
		r.summary()
		return 1
	}
	if !r.summary() {
		return 1
	}
	return 0
}

// modulePath returns the module path declared in a go.mod file, or "".
func modulePath(gomod string) string {
	f, err := os.Open(gomod)
	if err != nil {
		return ""
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			return strings.Trim(strings.TrimSpace(rest), `"`)
		}
	}
	return ""
}
