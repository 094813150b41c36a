package testenv_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/fedi-go/fedi/internal/testenv"
)

// envChild names the child run of TestMissing.
const envChild = "FEDI_TESTENV_CHILD"

// TestMissing runs TestMissingChild in a child process, with CI unset and
// with CI=true: the child skips in the first and fails in the second.
func TestMissing(t *testing.T) {
	if os.Getenv(envChild) != "" {
		return
	}
	for _, tt := range []struct {
		ci   string
		want string
	}{
		{"", "--- SKIP: TestMissingChild"},
		{"false", "--- SKIP: TestMissingChild"},
		{"true", "--- FAIL: TestMissingChild"},
	} {
		t.Run("CI="+tt.ci, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestMissingChild$", "-test.v", "-test.count=1")
			cmd.Env = append(os.Environ(), envChild+"=1", "CI="+tt.ci)
			out, _ := cmd.CombinedOutput()
			if !strings.Contains(string(out), tt.want) || !strings.Contains(string(out), "the corpus is missing") {
				t.Errorf("child output does not say %q with the message:\n%s", tt.want, out)
			}
			if strings.Contains(string(out), "after Missing") {
				t.Errorf("the child went on after Missing:\n%s", out)
			}
		})
	}
}

func TestMissingChild(t *testing.T) {
	if os.Getenv(envChild) == "" {
		return // run only as TestMissing's child
	}
	testenv.Missing(t, "the corpus is missing at %s", "/nowhere")
	t.Log("after Missing")
}
