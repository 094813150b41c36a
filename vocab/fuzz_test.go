package vocab_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedi-go/fedi/internal/jsoneq"
	"github.com/fedi-go/fedi/vocab"
)

// FuzzDecode feeds arbitrary bytes to Decode. It must never panic or hang;
// and whatever it accepts must encode, come back JSON-equal to the input,
// and encode to the same bytes when decoded again.
//
//	go test -run '^$' -fuzz FuzzDecode -fuzztime 1m ./vocab
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "payloads", "*.json"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{
		`{}`, `[]`, `[{}]`, `null`, `{"type":null}`, `{"@context":{"@vocab":"_:"},"type":"Note"}`,
		`{"type":"Question","closed":"2023-01-01T00:00:00Z","oneOf":[{"type":"Note","name":"a"}]}`,
		`{"type":"Place","latitude":-0.0,"longitude":1e300,"radius":1.5}`,
		`{"type":"Note","name":{"en":"x"},"nameMap":"y","contentMap":{"-":"z"}}`,
		`{"type":"Person","publicKey":[{"id":"https://a#k","owner":"https://a"}],"endpoints":{"sharedInbox":"https://a/inbox","x":1}}`,
		`{"@id":"https://a","@type":"https://www.w3.org/ns/activitystreams#Note"}`,
		`{"type":["Event","Note"],"joinMode":"free","ical:status":"CONFIRMED","language":[{"identifier":"fr"}]}`,
		"{\"type\":\"Note\",\"content\":\"\\ud83d\\ude00\\u0000\"}",
	} {
		f.Add([]byte(s))
	}
	reg := allVocabularies(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		it, err := reg.Decode(data)
		if err != nil {
			if strings.Contains(err.Error(), "%!") {
				t.Fatalf("badly formatted error: %v", err)
			}
			return
		}
		_ = vocab.Problems(it)
		_ = vocab.Validate(it)
		out, err := reg.Encode(it)
		if err != nil {
			t.Fatalf("decoded but does not encode: %v", err)
		}
		expanded := false
		for _, p := range vocab.Problems(it) {
			expanded = expanded || strings.Contains(p.Message, "expanded JSON-LD")
		}
		if !expanded {
			if ok, diff := jsoneq.Equal(data, out); !ok {
				t.Fatalf("not lossless: %s\nin:  %s\nout: %s", diff, data, out)
			}
		}
		again, err := reg.Decode(out)
		if err != nil {
			t.Fatalf("cannot decode its own output: %v\n%s", err, out)
		}
		out2, err := reg.Encode(again)
		if err != nil {
			t.Fatalf("second encode: %v", err)
		}
		if string(out) != string(out2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", out, out2)
		}
	})
}
