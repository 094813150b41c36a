package vocab_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/piprate/json-gold/ld"

	"github.com/fedi-go/fedi/internal/jsoneq"
	"github.com/fedi-go/fedi/internal/testenv"
	"github.com/fedi-go/fedi/vocab"
)

// corpusDir finds the shared payload corpus: $FEDI_CORPUS, or
// ../../shared/corpus from this package (a clone of main beside shared/).
// Without it the test skips, and fails in CI.
func corpusDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FEDI_CORPUS")
	if dir == "" {
		dir = filepath.Join("..", "..", "shared", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "MANIFEST.tsv")); err != nil {
		testenv.Missing(t, "payload corpus not found at %s (set FEDI_CORPUS to run the conformance test)", dir)
	}
	return dir
}

// expectation is one reviewed entry of testdata/corpus-expectations.tsv: a
// corpus file that is rejected, or that does not round-trip JSON-equal,
// and why.
type expectation struct {
	outcome string // "reject" or "expanded"
	reason  string
}

func loadExpectations(t *testing.T) map[string]expectation {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "corpus-expectations.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]expectation{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		parts := strings.SplitN(line, "\t", 3)
		if len(parts) != 3 || parts[2] == "" {
			t.Fatalf("corpus-expectations.tsv: want file<TAB>outcome<TAB>reason, got %q", line)
		}
		out[parts[0]] = expectation{outcome: parts[1], reason: parts[2]}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func allVocabularies(t testing.TB) *vocab.Registry {
	t.Helper()
	reg, err := vocab.NewRegistry(corpusVocabularies()...)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

// TestCorpus decodes and re-encodes every payload of the shared corpus.
// Every file outside w3c-as2-fail must round-trip JSON-equal (modulo the
// @context, null members and one-element arrays), or be listed in
// testdata/corpus-expectations.tsv with its reason; every w3c-as2-fail file
// must be rejected by Decode or flagged by Validate.
func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	expect := loadExpectations(t)
	reg := allVocabularies(t)
	files, err := filepath.Glob(filepath.Join(dir, "*", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	var pass, rejected, expanded, flagged, failRejected, failFlagged int
	used := map[string]bool{}
	for _, path := range files {
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(rel, "w3c-as2-fail/") {
			it, err := reg.Decode(data)
			switch {
			case err != nil:
				failRejected++
			case vocab.Validate(it) != nil:
				failFlagged++
			default:
				t.Errorf("%s: a must-reject document was accepted without a problem", rel)
			}
			continue
		}
		exp, listed := expect[rel]
		if listed {
			used[rel] = true
		}
		it, err := reg.Decode(data)
		if err != nil {
			if listed && exp.outcome == "reject" {
				rejected++
				continue
			}
			t.Errorf("%s: decode: %v", rel, err)
			continue
		}
		if listed && exp.outcome == "reject" {
			t.Errorf("%s: listed as rejected (%s) but decodes; remove it from corpus-expectations.tsv", rel, exp.reason)
			continue
		}
		out, err := reg.Encode(it)
		if err != nil {
			t.Errorf("%s: encode: %v", rel, err)
			continue
		}
		if listed && exp.outcome == "expanded" {
			if ok, d := expandedEqual(data, out); !ok {
				t.Errorf("%s: expanded JSON-LD does not round-trip: %s\n%s", rel, d, out)
				continue
			}
			expanded++
			continue
		}
		if ok, d := jsoneq.Equal(data, out); !ok {
			t.Errorf("%s: not lossless: %s", rel, d)
			continue
		}
		if vocab.Validate(it) != nil {
			flagged++
		}
		pass++
	}
	for rel, exp := range expect {
		if !used[rel] {
			t.Errorf("corpus-expectations.tsv lists %s (%s), which is not in the corpus", rel, exp.reason)
		}
	}
	t.Logf("corpus: %d files; %d round-trip losslessly (%d of them flagged by Validate), %d expanded JSON-LD round-trip after expansion, %d rejected as listed; w3c-as2-fail: %d rejected, %d flagged",
		len(files), pass, flagged, expanded, rejected, failRejected, failFlagged)
}

// expandedEqual compares two documents after JSON-LD expansion with the
// offline contexts.
func expandedEqual(a, b []byte) (bool, string) {
	ea, err := expand(a)
	if err != nil {
		return false, "expanding the input: " + err.Error()
	}
	eb, err := expand(b)
	if err != nil {
		return false, "expanding the output: " + err.Error()
	}
	return jsoneq.Equal(ea, eb)
}

func expand(data []byte) ([]byte, error) {
	v, err := jsoneq.Parse(data)
	if err != nil {
		return nil, err
	}
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = vocab.OfflineLoader
	out, err := ld.NewJsonLdProcessor().Expand(v, opts)
	if err != nil {
		return nil, err
	}
	return marshalJSON(out)
}

func marshalJSON(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("marshal: %w", err)
	}
	return b, nil
}
