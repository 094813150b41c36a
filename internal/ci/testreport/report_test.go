package main

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/fedi-go/fedi/internal/testenv"
)

func TestMatchName(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"TestA", "TestA", true},
		{"TestA", "TestAB", false},
		{"TestA", "TestA/sub", false},
		{"TestA/*", "TestA/sub", true},
		{"TestA/*", "TestA/sub/deeper", true},
		{"TestA/*", "TestA", false},
		{"*", "TestA/sub", true},
		{"Test*/lease", "TestQueue/lease", true},
		{"Test*/lease", "TestQueue/lease/x", false},
		{"Test*Queue*", "TestOpaqueQueue/x", true},
		{"*_ok", "TestA/b_ok", true},
		{"*_ok", "TestA/b_ko", false},
		{"a*a", "a", false},
		{"a*a", "aa", true},
	}
	for _, tt := range tests {
		if got := matchName(tt.pattern, tt.name); got != tt.want {
			t.Errorf("matchName(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestMatchPackage(t *testing.T) {
	const mod = "example.com/m"
	tests := []struct {
		pattern, pkg string
		want         bool
	}{
		{"storage/sqlite", "example.com/m/storage/sqlite", true},
		{"example.com/m/storage/sqlite", "example.com/m/storage/sqlite", true},
		{"sqlite", "example.com/m/storage/sqlite", false},
		{"storage", "example.com/m/storage/sqlite", false},
		{"storage/...", "example.com/m/storage/sqlite", true},
		{"storage/...", "example.com/m/storage", true},
		{"storage/...", "example.com/m/storagetest", false},
		{"...", "example.com/m/vocab", true},
		{"example.com/m/...", "example.com/m/vocab", true},
	}
	for _, tt := range tests {
		if got := matchPackage(tt.pattern, mod, tt.pkg); got != tt.want {
			t.Errorf("matchPackage(%q, %q) = %v, want %v", tt.pattern, tt.pkg, got, tt.want)
		}
	}
}

func TestParseAllowances(t *testing.T) {
	good := `# comment

storage/sqlite  TestDiskFull   mounting a tmpfs needs root
storage/...	*	"inconclusive, this machine is too busy"	timing checks skip on a busy machine
`
	as, err := parseAllowances(strings.NewReader(good), "skips")
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 2 {
		t.Fatalf("got %d allowances, want 2", len(as))
	}
	if a := as[0]; a.line != 3 || a.pkg != "storage/sqlite" || a.test != "TestDiskFull" || a.message != "" || a.reason != "mounting a tmpfs needs root" {
		t.Errorf("first allowance: %+v", a)
	}
	if a := as[1]; a.line != 4 || a.pkg != "storage/..." || a.test != "*" || a.message != "inconclusive, this machine is too busy" || a.reason != "timing checks skip on a busy machine" {
		t.Errorf("second allowance: %+v", a)
	}
	for _, bad := range []string{
		"storage/sqlite",
		"storage/sqlite TestDiskFull",
		`storage/sqlite TestDiskFull "message only"`,
		`storage/sqlite TestDiskFull "unterminated reason`,
	} {
		if _, err := parseAllowances(strings.NewReader(bad), "skips"); err == nil || !strings.Contains(err.Error(), "skips:1:") {
			t.Errorf("parseAllowances(%q) = %v, want an error naming the line", bad, err)
		}
	}
}

// sampleOutput is the go test -json output of the packages under
// testdata, each made to pass, fail, skip, panic, time out or not build.
// They run once, for all the cases of TestReport.
var sampleOutput = sync.OnceValues(func() ([]byte, error) {
	cmd := exec.Command("go", "test", "-json", "-count=1", "-timeout=3s",
		"./testdata/sample", "./testdata/allpass", "./testdata/panicinit", "./testdata/hang", "./testdata/broken")
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if len(out) == 0 {
		return nil, &exec.ExitError{Stderr: stderr.Bytes()}
	}
	_ = err // some of the packages fail: that is their purpose
	return out, nil
})

// streamOf returns the events of the named testdata packages.
func streamOf(t *testing.T, pkgs ...string) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		testenv.Missing(t, "the go command is not on PATH: %v", err)
	}
	out, err := sampleOutput()
	if err != nil {
		t.Fatalf("go test -json on testdata: %v", err)
	}
	var b strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		for _, p := range pkgs {
			if strings.Contains(sc.Text(), "/testdata/"+p+`"`) || strings.Contains(sc.Text(), "/testdata/"+p+" [") {
				b.WriteString(sc.Text() + "\n")
				break
			}
		}
	}
	return b.String()
}

const skips = `
internal/ci/testreport/testdata/allpass  TestSkipExpected  needs a tmpfs
internal/ci/testreport/testdata/sample   TestSkipExpected  needs a tmpfs
internal/ci/testreport/testdata/...  *  "inconclusive, this machine is too busy"  timing checks skip on a busy machine
`

func TestReport(t *testing.T) {
	tests := []struct {
		name     string
		pkgs     []string
		skips    string // the expected-skips file; "-" for none
		want     int
		contains []string
		lacks    []string
	}{
		{
			name: "every skip expected", pkgs: []string{"allpass"}, skips: skips, want: 0,
			contains: []string{
				"ok   internal/ci/testreport/testdata/allpass",
				"tests: 3 passed, 0 failed, 2 skipped (2 expected, 0 not expected)",
				"SKIP internal/ci/testreport/testdata/allpass TestSkipExpected: allpass_test.go:9: no tmpfs here",
				"expected (skips:2): needs a tmpfs",
				"SKIP internal/ci/testreport/testdata/allpass TestBusy/a: allpass_test.go:12: inconclusive, this machine is too busy",
				"expected (skips:4): timing checks skip on a busy machine",
				"the run passed",
			},
			lacks: []string{"NOT EXPECTED", "the run failed"},
		},
		{
			name: "no skip expected", pkgs: []string{"allpass"}, skips: "-", want: 1,
			contains: []string{"2 skipped (0 expected, 2 not expected)", "NOT EXPECTED", "2 skipped tests were not expected"},
		},
		{
			name: "the message must match", pkgs: []string{"allpass"}, want: 1,
			skips:    "internal/ci/testreport/testdata/allpass * \"no tmpfs\" needs a tmpfs\n",
			contains: []string{"TestBusy/a: allpass_test.go:12: inconclusive, this machine is too busy\n       NOT EXPECTED", "1 skipped tests were not expected"},
		},
		{
			name: "failures", pkgs: []string{"sample"}, skips: skips, want: 1,
			contains: []string{
				"--- FAIL: internal/ci/testreport/testdata/sample TestFail",
				"sample_test.go:10: some context",
				"sample_test.go:11: the answer is 41, want 42",
				"--- FAIL: internal/ci/testreport/testdata/sample TestSub/fails",
				"sample_test.go:21: the subtest failed",
				"FAIL internal/ci/testreport/testdata/sample (",
				"tests: 2 passed, 3 failed, 3 skipped (2 expected, 1 not expected)",
				"SKIP internal/ci/testreport/testdata/sample TestSkipUnexpected: sample_test.go:16: the service is not running\n       NOT EXPECTED",
				"  FAIL internal/ci/testreport/testdata/sample TestFail\n",
				"1 skipped tests were not expected",
				"expected skips that did not happen",
				"skips:2: internal/ci/testreport/testdata/allpass  TestSkipExpected  needs a tmpfs",
			},
			lacks: []string{"the run passed"},
		},
		{
			name: "a panic outside any test", pkgs: []string{"panicinit"}, skips: skips, want: 1,
			contains: []string{"FAIL internal/ci/testreport/testdata/panicinit", "panic: the package cannot start", "no test ran"},
		},
		{
			name: "a timeout", pkgs: []string{"hang"}, skips: skips, want: 1,
			contains: []string{"FAIL internal/ci/testreport/testdata/hang", "TestHangs, which never finished", "panic: test timed out",
				"NEVER FINISHED internal/ci/testreport/testdata/hang TestHangs"},
		},
		{
			name: "a build failure", pkgs: []string{"broken"}, skips: skips, want: 1,
			contains: []string{"BUILD FAILED github.com/fedi-go/fedi/internal/ci/testreport/testdata/broken", "cannot use \"not a number\"",
				"FAIL internal/ci/testreport/testdata/broken"},
		},
		{
			name: "nothing ran", pkgs: nil, skips: skips, want: 1,
			contains: []string{"no test ran"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stream := ""
			if tt.pkgs != nil {
				stream = streamOf(t, tt.pkgs...)
			}
			args := []string{"-module", "github.com/fedi-go/fedi"}
			if tt.skips != "-" {
				dir := t.TempDir()
				if err := os.WriteFile(filepath.Join(dir, "skips"), []byte(tt.skips), 0o644); err != nil {
					t.Fatal(err)
				}
				t.Chdir(dir)
				args = append(args, "-expected-skips", "skips")
			}
			var stdout, stderr bytes.Buffer
			code := run(args, strings.NewReader(stream), &stdout, &stderr)
			out := stdout.String()
			if code != tt.want {
				t.Errorf("exit status %d, want %d; stderr: %s", code, tt.want, stderr.String())
			}
			for _, s := range tt.contains {
				if !strings.Contains(out, s) {
					t.Errorf("the report does not say %q", s)
				}
			}
			for _, s := range tt.lacks {
				if strings.Contains(out, s) {
					t.Errorf("the report says %q", s)
				}
			}
			if t.Failed() {
				// Each line quoted, so that the report's own "--- FAIL"
				// lines are not taken for this test's.
				t.Logf("the report:\n| %s", strings.ReplaceAll(strings.TrimSuffix(out, "\n"), "\n", "\n| "))
			}
		})
	}
}

func TestUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	dir := t.TempDir()
	bad := filepath.Join(dir, "skips")
	if err := os.WriteFile(bad, []byte("storage/sqlite TestDiskFull\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"-expected-skips", bad},
		{"-expected-skips", filepath.Join(dir, "missing")},
		{"extra-argument"},
		{"-no-such-flag"},
	} {
		if code := run(args, strings.NewReader(""), &stdout, &stderr); code != 2 {
			t.Errorf("run(%q) = %d, want 2", args, code)
		}
	}
}

func TestModulePath(t *testing.T) {
	if got := modulePath(filepath.Join("..", "..", "..", "go.mod")); got != "github.com/fedi-go/fedi" {
		t.Errorf("modulePath = %q", got)
	}
	if got := modulePath("no-such-file"); got != "" {
		t.Errorf("modulePath of a missing file = %q", got)
	}
}
