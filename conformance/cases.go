package conformance

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedi-go/fedi/signature"
)

//go:embed payloads/*.json
var payloads embed.FS

var cases = []kase{
	{"webfinger", webfingerCase},
	{"actor document", actorDocCase},
	{"unsigned", func(t *testing.T, k *kit) {
		req, _ := k.request(context.Background(), http.MethodPost, k.inboxIRI(t), k.note("mallory", "unsigned"))
		req.Header.Set("Content-Type", "application/activity+json")
		k.expect(t, req, "an unsigned POST", 401)
	}},
	{"forged signature", func(t *testing.T, k *kit) {
		// Signed with trent's key under mallory's keyId.
		a, b := k.actors["mallory"], k.actors["trent"]
		body := k.note("mallory", "forged")
		s, err := signature.NewSigner(signature.SignerOptions{KeyID: a.iri + "#main-key", Key: b.key})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := k.request(context.Background(), http.MethodPost, k.inboxIRI(t), body)
		req.Header.Set("Content-Type", "application/activity+json")
		if err := s.SignRequest(req, body); err != nil {
			t.Fatal(err)
		}
		k.expect(t, req, "a signature by another key than the keyId's", 401)
	}},
	{"tampered digest", func(t *testing.T, k *kit) {
		req := k.signed(t, "mallory", "mallory", k.note("mallory", "signed"), signature.Cavage)
		forged := k.note("mallory", "tampered")
		req.Body, req.ContentLength = io.NopCloser(bytes.NewReader(forged)), int64(len(forged))
		k.expect(t, req, "a body changed after signing", 401)
	}},
	{"stale date", func(t *testing.T, k *kit) {
		a := k.actors["mallory"]
		body := k.note("mallory", "stale")
		s, err := signature.NewSigner(signature.SignerOptions{KeyID: a.iri + "#main-key", Key: a.key,
			Now: func() time.Time { return time.Now().Add(-13 * time.Hour) }})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := k.request(context.Background(), http.MethodPost, k.inboxIRI(t), body)
		req.Header.Set("Content-Type", "application/activity+json")
		if err := s.SignRequest(req, body); err != nil {
			t.Fatal(err)
		}
		k.expect(t, req, "a Date 13 hours old", 401)
	}},
	{"key owner is not the actor", func(t *testing.T, k *kit) {
		req := k.signed(t, "mallory", "trent", k.note("mallory", "in mallory's name"), signature.Cavage)
		k.expect(t, req, "trent's signature on mallory's activity", 401, 403)
	}},
	{"RFC 9421 signature", func(t *testing.T, k *kit) {
		req := k.signed(t, "mallory", "mallory", k.note("mallory", "signed with RFC 9421"), signature.RFC9421)
		// A server that verifies only draft-cavage must answer 4xx, so
		// that a double-knocking sender falls back; one that verifies
		// RFC 9421 accepts it.
		k.expect(t, req, "an RFC 9421 signed Create", 200, 201, 202, 400, 401, 403)
	}},
	{"update by a non-owner", func(t *testing.T, k *kit) { nonOwner(t, k, "Update") }},
	{"delete by a non-owner", func(t *testing.T, k *kit) { nonOwner(t, k, "Delete") }},
	{"oversize", func(t *testing.T, k *kit) {
		big := bytes.Repeat([]byte(" "), int(2*k.target.MaxBodyBytes))
		req := k.signed(t, "mallory", "mallory", big, signature.Cavage)
		k.expect(t, req, "a body twice the cap", 413)
	}},
	{"deep nesting", func(t *testing.T, k *kit) {
		deep := strings.Repeat(`{"a":`, 1000) + "1" + strings.Repeat("}", 1000)
		body := fmt.Appendf(nil, `{"id":%q,"type":"Create","actor":%q,"object":%s}`, k.id("create"), k.actors["mallory"].iri, deep)
		k.expect(t, k.signed(t, "mallory", "mallory", body, signature.Cavage), "a document nested 1,000 deep", 400)
	}},
	{"invalid JSON", func(t *testing.T, k *kit) {
		k.expect(t, k.signed(t, "mallory", "mallory", []byte(`{"type":"Create",`), signature.Cavage), "truncated JSON", 400)
	}},
	{"hostile IRI", func(t *testing.T, k *kit) {
		body := fmt.Appendf(nil, `{"id":%q,"type":"Like","actor":%q,"object":%q}`,
			k.peer.URL+`/activities/a"b c<script>`, k.actors["mallory"].iri, k.target.Actor)
		k.expect(t, k.signed(t, "mallory", "mallory", body, signature.Cavage), "an id with a quote, a space and markup", 400)
	}},
	{"follow handshake and replay", handshakeCase},
	{"payload replays", replayCase},
}

// expect sends req and checks its status is one of want.
func (k *kit) expect(t *testing.T, req *http.Request, what string, want ...int) int {
	t.Helper()
	status, _, body, err := k.do(req)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if !slices.Contains(want, status) {
		t.Errorf("%s: status %d (%s), want %v", what, status, strings.TrimSpace(string(body)), want)
	}
	return status
}

// note returns a Create{Note} by the kit's actor name, addressed to the
// target actor.
func (k *kit) note(name, content string) []byte {
	a := k.actors[name]
	id := k.id("create")
	return jsonOf(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams",
		"id":       id, "type": "Create", "actor": a.iri,
		"to": []string{k.target.Actor},
		"object": map[string]any{"id": id + "/note", "type": "Note", "attributedTo": a.iri,
			"content": content, "to": []string{k.target.Actor}},
	})
}

func webfingerCase(t *testing.T, k *kit) {
	handle := k.target.Handle
	if handle == "" {
		name, _ := k.actorDoc(t)["preferredUsername"].(string)
		if name == "" {
			t.Fatal("the actor document has no preferredUsername to build its handle from; set Target.Handle")
		}
		handle = name + "@" + k.origin.Host
	}
	status, hdr, body, err := k.get(context.Background(), "/.well-known/webfinger?resource="+url.QueryEscape("acct:"+handle), "application/jrd+json")
	if err != nil || status != http.StatusOK {
		t.Fatalf("WebFinger acct:%s: %d %v", handle, status, err)
	}
	if ct := hdr.Get("Content-Type"); !strings.Contains(ct, "json") {
		t.Errorf("WebFinger Content-Type %q is not JSON", ct)
	}
	var jrd struct {
		Links []struct{ Rel, Type, Href string }
	}
	if err := json.Unmarshal(body, &jrd); err != nil {
		t.Fatalf("WebFinger: not JSON: %v", err)
	}
	for _, l := range jrd.Links {
		if l.Rel == "self" && (l.Type == "application/activity+json" || strings.HasPrefix(l.Type, "application/ld+json")) {
			if l.Href != k.target.Actor {
				t.Errorf("WebFinger self link %s, want %s", l.Href, k.target.Actor)
			}
			return
		}
	}
	t.Errorf("WebFinger has no self link of type application/activity+json: %s", body)
}

func actorDocCase(t *testing.T, k *kit) {
	status, hdr, body, err := k.get(context.Background(), k.target.Actor, "application/activity+json")
	if err != nil || status != http.StatusOK {
		t.Fatalf("GET %s: %d %v", k.target.Actor, status, err)
	}
	ct := hdr.Get("Content-Type")
	if !strings.HasPrefix(ct, "application/activity+json") && !strings.HasPrefix(ct, "application/ld+json") {
		t.Errorf("Content-Type %q: peers want application/activity+json", ct)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	ctx, _ := json.Marshal(doc["@context"])
	for _, want := range []string{"https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"} {
		if !strings.Contains(string(ctx), want) {
			t.Errorf("@context lacks %s (Fedify expands with it)", want)
		}
	}
	if doc["id"] != k.target.Actor {
		t.Errorf("id %v, want %s (Mastodon refuses a document whose id is not its URL)", doc["id"], k.target.Actor)
	}
	if typ, _ := doc["type"].(string); !slices.Contains([]string{"Person", "Service", "Application", "Group", "Organization"}, typ) {
		t.Logf("type %q is not one Fedify takes as an actor (Person, Service, Application, Group, Organization)", typ)
	}
	for _, f := range []string{"inbox", "outbox", "followers", "following", "preferredUsername"} {
		if s, _ := doc[f].(string); s == "" {
			t.Errorf("%s is missing", f)
		}
	}
	if ep, _ := doc["endpoints"].(map[string]any); ep == nil || ep["sharedInbox"] == nil {
		t.Logf("no endpoints.sharedInbox: peers deliver to each personal inbox")
	}
	pk, _ := doc["publicKey"].(map[string]any)
	if pk == nil {
		t.Fatal("publicKey is missing: peers cannot verify the actor's signatures")
	}
	if pk["owner"] != k.target.Actor {
		t.Errorf("publicKey.owner %v, want the actor", pk["owner"])
	}
	if id, _ := pk["id"].(string); !strings.HasPrefix(id, k.target.Actor) {
		t.Errorf("publicKey.id %q is not the actor's", id)
	}
	pem, _ := pk["publicKeyPem"].(string)
	if _, err := signature.ParsePublicKeyPEM(pem); err != nil {
		t.Errorf("publicKey.publicKeyPem does not parse: %v", err)
	}
	// The same URL, asked for as ld+json, is the same document.
	status, _, _, _ = k.get(context.Background(), k.target.Actor, `application/ld+json; profile="https://www.w3.org/ns/activitystreams"`)
	if status != http.StatusOK {
		t.Errorf("GET as application/ld+json: %d", status)
	}
}

// nonOwner: mallory creates a note; trent, on the same server, updates
// or deletes it: refused.
func nonOwner(t *testing.T, k *kit, typ string) {
	create := k.note("mallory", "mallory's own words")
	var c struct {
		Object struct{ ID string } `json:"object"`
	}
	_ = json.Unmarshal(create, &c)
	if st := k.expect(t, k.signed(t, "mallory", "mallory", create, signature.Cavage), "mallory's Create", 200, 201, 202); st >= 300 {
		return
	}
	trent := k.actors["trent"].iri
	var object any = c.Object.ID
	if typ == "Update" {
		object = map[string]any{"id": c.Object.ID, "type": "Note", "attributedTo": trent, "content": "trent's words now"}
	}
	body := jsonOf(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": k.id(strings.ToLower(typ)),
		"type": typ, "actor": trent, "object": object, "to": []string{k.target.Actor}})
	k.expect(t, k.signed(t, "trent", "trent", body, signature.Cavage), typ+" of mallory's note by trent", 401, 403, 404, 422)
}

// handshakeCase: mallory follows the target actor; unless it approves
// by hand, an Accept of that Follow reaches mallory's inbox, signed by
// the target. The same Follow replayed byte for byte is answered 2xx and
// has no second effect.
func handshakeCase(t *testing.T, k *kit) {
	mallory := k.actors["mallory"].iri
	id := k.id("follow")
	follow := jsonOf(map[string]any{"@context": "https://www.w3.org/ns/activitystreams", "id": id, "type": "Follow",
		"actor": mallory, "object": k.target.Actor})
	req := k.signed(t, "mallory", "mallory", follow, signature.Cavage)
	replay := req.Clone(context.Background())
	k.expect(t, req, "mallory's Follow", 200, 201, 202)
	isAccept := func(p posted) bool {
		var a struct {
			Type   string          `json:"type"`
			Actor  any             `json:"actor"`
			Object json.RawMessage `json:"object"`
		}
		if p.err != nil || json.Unmarshal(p.body, &a) != nil || a.Type != "Accept" {
			return false
		}
		var s string
		var o struct{ ID string }
		return (json.Unmarshal(a.Object, &s) == nil && s == id) || (json.Unmarshal(a.Object, &o) == nil && o.ID == id)
	}
	if k.target.ManualApproval {
		if _, ok := k.waitPostedFor(min(k.target.Timeout, 3*time.Second), isAccept); ok {
			t.Error("an Accept came though the actor approves followers by hand")
		}
	} else {
		p, ok := k.waitPosted(isAccept)
		if !ok {
			k.mu.Lock()
			var seen []string
			for _, q := range k.inboxed {
				seen = append(seen, fmt.Sprintf("%s %v %.200s", path.Base(q.path), q.err, q.body))
			}
			k.mu.Unlock()
			t.Fatalf("no Accept of the Follow reached mallory within %v (is the target's delivery worker running?); received: %v", k.target.Timeout, seen)
		}
		if p.signer.Owner != k.target.Actor {
			t.Errorf("the Accept is signed by %s, want the followed actor", p.signer.Owner)
		}
	}
	replay.Body = io.NopCloser(bytes.NewReader(follow))
	k.expect(t, replay, "the same Follow replayed", 200, 201, 202)
	if !k.target.ManualApproval {
		time.Sleep(min(k.target.Timeout/4, 2*time.Second))
		if n := k.postedCount(isAccept); n != 1 {
			t.Errorf("%d Accepts after a replayed Follow, want 1: a replay must have no second effect", n)
		}
	}
}

// replayCase replays real payload shapes of the vocabularies the target
// declares, rewritten to come from mallory: each must decode (no 400) and
// not break the server (no 500).
func replayCase(t *testing.T, k *kit) {
	entries, err := payloads.ReadDir("payloads")
	if err != nil {
		t.Fatal(err)
	}
	vocabs := append([]string{"mastodon"}, k.target.Vocabularies...)
	for _, e := range entries {
		producer, _, _ := strings.Cut(e.Name(), "__")
		if !slices.Contains(vocabs, producer) {
			continue
		}
		raw, err := payloads.ReadFile("payloads/" + e.Name())
		if err != nil {
			t.Fatal(err)
		}
		body, err := k.rewrite(raw)
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		t.Run(strings.TrimSuffix(e.Name(), ".json"), func(t *testing.T) {
			k.expect(t, k.signed(t, "mallory", "mallory", body, signature.Cavage), e.Name(),
				200, 201, 202, 403, 404, 409, 410, 422, 503)
		})
	}
}

// rewrite makes a payload mallory's: every IRI on the payload's actor's
// origin moves to the kit's, the actor becomes mallory, the id a fresh
// one, and what it addresses or targets on the original actor's
// followers the target actor.
func (k *kit) rewrite(raw []byte) ([]byte, error) {
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	actor := ""
	switch a := doc["actor"].(type) {
	case string:
		actor = a
	case map[string]any:
		actor, _ = a["id"].(string)
	}
	u, err := url.Parse(actor)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("no actor to rewrite in %.80s", raw)
	}
	origin := u.Scheme + "://" + u.Host
	text := strings.ReplaceAll(string(raw), actor, k.actors["mallory"].iri)
	text = strings.ReplaceAll(text, origin, k.peer.URL)
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return nil, err
	}
	doc["id"] = k.id("replay")
	doc["to"] = []any{k.target.Actor}
	return json.Marshal(doc)
}
