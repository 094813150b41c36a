package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/internal/jsoneq"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errOut)
	return code, out.String(), errOut.String()
}

func payloads(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "payloads", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	return files
}

// TestDecodeGolden compares the summary of every bundled payload with its
// golden file; run with -update to rewrite them after a deliberate change.
func TestDecodeGolden(t *testing.T) {
	for _, file := range payloads(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".json")
		t.Run(name, func(t *testing.T) {
			code, out, errOut := runCLI(t, "", "decode", file)
			require.Equal(t, 0, code, errOut)
			golden := filepath.Join("testdata", "decode", name+".txt")
			if *update {
				require.NoError(t, os.MkdirAll(filepath.Dir(golden), 0o755))
				require.NoError(t, os.WriteFile(golden, []byte(out), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "run go test ./cmd/fedi -update to create the golden file")
			assert.Equal(t, string(want), out)
		})
	}
}

// TestDecodeRoundtrip checks that --roundtrip prints a document that is
// JSON-equal to the input (expanded JSON-LD excepted: it comes back
// compacted).
func TestDecodeRoundtrip(t *testing.T) {
	for _, file := range payloads(t) {
		if strings.Contains(file, "hong-gildong") {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			code, out, errOut := runCLI(t, "", "decode", "--roundtrip", file)
			require.Equal(t, 0, code, errOut)
			in, err := os.ReadFile(file)
			require.NoError(t, err)
			ok, diff := jsoneq.Equal(in, []byte(out))
			assert.True(t, ok, diff)
		})
	}
}

func TestDecodeStdin(t *testing.T) {
	code, out, errOut := runCLI(t, `{"@context":"https://www.w3.org/ns/activitystreams","type":"Join",`+
		`"actor":"https://a.example/u/1","object":"https://b.example/events/2","participationMessage":"hi"}`, "decode", "-")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "participationMessage (mobilizon)")
	assert.Contains(t, out, `"hi"`)
	assert.Regexp(t, `actor +https://a.example/u/1`, out)
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct {
		name, stdin string
		args        []string
		code        int
		message     string
	}{
		{"invalid JSON", `{"type": "Note",`, []string{"decode", "-"}, 1, "vocab: invalid JSON (line 1, column 17): unexpected end of input in an object"},
		{"hostile id", `{"type":"Note","id":"https://x.example/\",\"evil\":\"1"}`, []string{"decode", "-"}, 1, `vocab: invalid IRI at $.id`},
		{"number as actor", `{"type":"Like","actor":42}`, []string{"decode", "-"}, 1, "vocab: property has the wrong JSON type at $.actor"},
		{"not an object", `"just a string"`, []string{"decode", "-"}, 1, "vocab: not an ActivityStreams object"},
		{"invalid UTF-8", "{\"type\":\"Note\",\"name\":\"\xff\"}", []string{"decode", "-"}, 1, "vocab: invalid UTF-8"},
		{"too deep", strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100), []string{"decode", "-"}, 1, "vocab: nesting too deep"},
		{"missing file", "", []string{"decode", "does-not-exist.json"}, 1, "fedi: decode does-not-exist.json: open does-not-exist.json"},
		{"no file", "", []string{"decode"}, 2, "usage: fedi decode"},
		{"two files", "", []string{"decode", "a", "b"}, 2, "usage: fedi decode"},
		{"bad flag", "", []string{"decode", "--nope", "-"}, 2, "flag provided but not defined"},
		{"unknown command", "", []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"no command", "", nil, 2, "usage: fedi <command>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := runCLI(t, tc.stdin, tc.args...)
			assert.Equal(t, tc.code, code)
			assert.Empty(t, out)
			assert.Contains(t, errOut, tc.message)
		})
	}
}

func TestHelp(t *testing.T) {
	code, out, _ := runCLI(t, "", "help")
	assert.Equal(t, 0, code)
	assert.Contains(t, out, "decode [--roundtrip] FILE|-")
}
