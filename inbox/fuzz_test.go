package inbox_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedi-go/fedi"
	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/internal/fedtest"
	"github.com/fedi-go/fedi/storage/memory"
)

// noDNS resolves no name, so that fuzzed IRIs never leave the machine;
// IP literals (the loopback test servers) need no resolution.
type noDNS struct{}

func (noDNS) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return nil, &net.DNSError{Err: "no such host (fuzzing)", IsNotFound: true}
}

// FuzzInbox sends fuzzed bodies, signed with bob's valid key, through the
// whole inbox handler: whatever the body, the handler answers a status it
// documents, never 500 (storage cannot fail here), and never panics.
// The placeholders BOB, ALICE and LOCAL in a body stand for bob's IRI,
// alice's and the server's origin, so that seeds reach past the
// signer check.
func FuzzInbox(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
	client, err := fetch.New(fetch.Options{AllowLoopback: true, Resolver: noDNS{}})
	if err != nil {
		f.Fatal(err)
	}
	defer client.Close()
	w := newFuzzWorld(f, client)
	allowed := map[int]bool{202: true, 400: true, 401: true, 403: true, 404: true, 409: true, 413: true, 422: true, 503: true}
	f.Fuzz(func(t *testing.T, body []byte) {
		b := strings.NewReplacer("BOB", w.bob, "ALICE", w.alice.IRI, "LOCAL", w.srv.URL).Replace(string(body))
		req := w.rem.Signed(t, w.bob, w.shared(), []byte(b))
		rec := httptest.NewRecorder()
		w.srv.Inbox.ServeHTTP(rec, req)
		if !allowed[rec.Code] {
			t.Fatalf("status %d (%s) for %s", rec.Code, rec.Body.String(), b)
		}
	})
}

func newFuzzWorld(f *testing.F, client *fetch.Client) *world {
	st, count := fedtest.Counting(memory.New())
	w := &world{count: count}
	w.srv = fedtest.New(f, fedtest.Config{Store: st, Options: fedi.Options{Client: client}})
	w.alice = w.srv.User(f, "alice")
	w.rem, w.other = fedtest.NewRemote(f), fedtest.NewRemote(f)
	w.bob = w.rem.Actor(f, "bob", 0)
	return w
}

// fuzzSeeds returns the payloads of testdata/payloads with their actor
// made bob, and a few activities shaped for the checks.
func fuzzSeeds(f *testing.F) [][]byte {
	seeds := [][]byte{
		[]byte(`{"id":"BOB/create/1","type":"Create","actor":"BOB","to":["ALICE"],"object":{"id":"BOB/notes/1","type":"Note","attributedTo":"BOB","content":"hi","inReplyTo":"ALICE/note/1"}}`),
		[]byte(`{"id":"BOB/follow/1","type":"Follow","actor":"BOB","object":"ALICE"}`),
		[]byte(`{"id":"BOB/undo/1","type":"Undo","actor":"BOB","object":{"id":"BOB/follow/1","type":"Follow","actor":"BOB","object":"ALICE"}}`),
		[]byte(`{"id":"BOB/like/1","type":"Like","actor":"BOB","object":"LOCAL/users/alice/note/1"}`),
		[]byte(`{"id":"BOB/update/1","type":"Update","actor":"BOB","object":{"id":"BOB","type":"Person","inbox":"BOB/inbox"}}`),
		[]byte(`{"id":"BOB/delete/1","type":"Delete","actor":"BOB","object":"BOB/notes/1"}`),
		[]byte(`{"id":"BOB/accept/1","type":"Accept","actor":"BOB","object":{"id":"LOCAL/users/alice/follow/x","type":"Follow","actor":"ALICE","object":"BOB"}}`),
		[]byte(`{"id":"BOB/announce/1","type":"Announce","actor":"BOB","object":{"id":"https://other.example/create/1","type":"Create","actor":"https://other.example/u"}}`),
		[]byte(`{"id":"BOB/block/1","type":"Block","actor":"BOB","object":"ALICE"}`),
		[]byte(`{"id":"BOB/add/1","type":"Add","actor":"BOB","object":"BOB/notes/1","target":"BOB/featured"}`),
		[]byte(`{"id":"BOB/flag/1","type":"Flag","actor":"BOB","object":["ALICE"],"content":"spam"}`),
		[]byte(`{"id":"BOB/move/1","type":"Move","actor":"BOB","object":"BOB","target":"BOB/new"}`),
		[]byte(`{"type":"Arrive","actor":"BOB","location":{"type":"Place","name":"here"}}`),
	}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "payloads", "*.json"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		var doc map[string]json.RawMessage
		if json.Unmarshal(data, &doc) != nil {
			continue
		}
		if _, ok := doc["actor"]; ok {
			doc["actor"] = json.RawMessage(`"BOB"`)
			doc["id"] = json.RawMessage(`"BOB/activities/` + strings.TrimSuffix(filepath.Base(file), ".json") + `"`)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	return seeds
}
