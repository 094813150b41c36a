package refserver_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/internal/fedtest"
)

// ctl drives one server's control API.
type ctl struct {
	t      *testing.T
	origin string
}

func (c ctl) do(method, path, body string) (int, any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.origin+"/_control/"+path, strings.NewReader(body))
	require.NoError(c.t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	var out any
	raw, _ := io.ReadAll(resp.Body)
	require.NoError(c.t, json.Unmarshal(raw, &out), "%s %s: %s", method, path, raw)
	return resp.StatusCode, out
}

// post requires a 200 and returns the answer, an object.
func (c ctl) post(path, body string) map[string]any {
	c.t.Helper()
	status, out := c.do(http.MethodPost, path, body)
	require.Equal(c.t, http.StatusOK, status, "POST %s %s: %v", path, body, out)
	m, ok := out.(map[string]any)
	require.True(c.t, ok, "POST %s answers an object: %v", path, out)
	return m
}

// get requires a 200 and returns the answer.
func (c ctl) get(path string) any {
	c.t.Helper()
	status, out := c.do(http.MethodGet, path, "")
	require.Equal(c.t, http.StatusOK, status, "GET %s: %v", path, out)
	return out
}

// list returns the answer of a GET as a list of objects.
func (c ctl) list(path string) []map[string]any {
	c.t.Helper()
	var out []map[string]any
	for _, el := range c.get(path).([]any) {
		out = append(out, el.(map[string]any))
	}
	return out
}

// eventually polls cond for up to 15 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if cond() {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("not within 15 s: %s", what)
}

// find returns the first element of l whose key is v.
func find(l []map[string]any, key string, v any) map[string]any {
	for _, e := range l {
		if e[key] == v {
			return e
		}
	}
	return nil
}

func q(v string) string { return url.QueryEscape(v) }

// TestPlatformRoutesRefuseMissingFields: each platform route answers a
// body without a required field with a 400 that names it.
func TestPlatformRoutesRefuseMissingFields(t *testing.T) {
	_, origin := start(t)
	c := ctl{t, origin}
	tests := []struct {
		method, path, body, want string
	}{
		{"POST", "event", `{}`, `"name"`},
		{"POST", "event", `{"name":"x","joinMode":"sometimes"}`, `"joinMode"`},
		{"POST", "event", `{"name":"x","maximumAttendeeCapacity":"many"}`, `"maximumAttendeeCapacity"`},
		{"POST", "event", `{"name":"x","repliesModerationOption":"nobody"}`, `"repliesModerationOption"`},
		{"POST", "event", `{"name":"x","startTime":"tomorrow"}`, `"startTime"`},
		{"POST", "join", `{}`, `"event"`},
		{"POST", "leave", `{}`, `"event"`},
		{"GET", "participants", ``, "event="},
		{"POST", "group", `{}`, `"name"`},
		{"POST", "group", `{"name":"a b"}`, `"name"`},
		{"POST", "post", `{"name":"x"}`, `"group"`},
		{"POST", "post", `{"group":"https://example.org/c/x"}`, `"name"`},
		{"POST", "comment", `{"content":"x"}`, `"inReplyTo"`},
		{"POST", "comment", `{"inReplyTo":"https://example.org/p/1"}`, `"content"`},
		{"POST", "vote", `{"dir":"up"}`, `"object"`},
		{"POST", "vote", `{"object":"https://example.org/p/1"}`, `"dir"`},
		{"POST", "vote", `{"object":"https://example.org/p/1","dir":"sideways"}`, `"dir"`},
		{"POST", "unvote", `{}`, `"object"`},
		{"POST", "remove", `{}`, `"object"`},
		{"GET", "votes", ``, "object="},
		{"GET", "posts", ``, "group="},
		{"POST", "project", `{}`, `"name"`},
		{"POST", "project", `{"name":"x","kind":"Club"}`, `"kind"`},
		{"POST", "invite", `{"to":"https://example.org/u/bob"}`, `"object"`},
		{"POST", "invite", `{"object":"https://example.org/p/1"}`, `"to"`},
		{"GET", "members", ``, "object="},
		{"POST", "badge", `{}`, `"name"`},
		{"POST", "assign", `{"to":"https://example.org/u/bob"}`, `"badge"`},
		{"POST", "assign", `{"badge":"https://example.org/b/1"}`, `"to"`},
		{"GET", "holders", ``, "badge="},
		{"POST", "accept", `{}`, `"activity"`},
		{"POST", "reject", `{}`, `"activity"`},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.body, func(t *testing.T) {
			status, out := ctl{t, origin}.do(tt.method, tt.path, tt.body)
			assert.Equal(t, http.StatusBadRequest, status, "%v", out)
			m, _ := out.(map[string]any)
			assert.Contains(t, m["error"], tt.want)
		})
	}
	// Malformed JSON is a 400 with a reason on these routes too.
	status, out := c.do("POST", "group", `{"name": `)
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, out.(map[string]any)["error"], "not a JSON object")
	// A decision on nothing pending is a 404.
	status, _ = c.do("POST", "accept", `{"activity":"`+origin+`/users/alice/join/none"}`)
	assert.Equal(t, http.StatusNotFound, status)
	status, _ = c.do("GET", "participants?event="+q(origin+"/users/alice/event/none"), "")
	assert.Equal(t, http.StatusNotFound, status)
}

// TestEvents: a restricted event on A, joined by B's bob with a message,
// approved by hand, then left; a free one, joined at once.
func TestEvents(t *testing.T) {
	_, aOrigin := start(t, "-user", "alice")
	_, bOrigin := start(t, "-user", "bob")
	a, b := ctl{t, aOrigin}, ctl{t, bOrigin}
	bob := b.get("info").(map[string]any)["actor"].(string)

	ev := a.post("event", `{"name":"Supper club","content":"<p>Soup</p>","location":"The hall","startTime":"2030-01-05T18:00:00Z",
		"joinMode":"restricted","maximumAttendeeCapacity":2,"repliesModerationOption":"moderated"}`)
	event := ev["event"].(string)
	assert.True(t, strings.HasPrefix(event, aOrigin+"/"), event)
	assert.NotEmpty(t, ev["create"])
	assert.Contains(t, ev, "delivery")
	status, doc := getJSON(t, event)
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "restricted", doc["joinMode"])
	assert.EqualValues(t, 2, doc["maximumAttendeeCapacity"])
	assert.Equal(t, "moderated", doc["repliesModerationOption"])
	assert.Equal(t, "2030-01-05T18:00:00Z", doc["startTime"])

	join := b.post("join", `{"event":"`+event+`","message":"I'll bring bread"}`)
	assert.Equal(t, "Join", join["type"])
	joinID := join["id"].(string)
	eventually(t, "the Join waits on A", func() bool {
		p := a.get("pending").(map[string]any)
		j := find(toList(p["joins"]), "id", joinID)
		return j != nil && j["actor"] == bob && j["event"] == event && j["message"] == "I'll bring bread"
	})
	mine := find(b.list("joins"), "id", joinID)
	require.NotNil(t, mine)
	assert.Equal(t, "pending", mine["state"])
	assert.Equal(t, event, mine["event"])
	assert.Equal(t, "I'll bring bread", mine["message"])
	p := find(a.list("participants?event="+q(event)), "actor", bob)
	require.NotNil(t, p)
	assert.Equal(t, "pending", p["state"])

	// The HTML page of the event shows the waiting Join and its message.
	page := getHTML(t, event)
	assert.Contains(t, page, "Waiting for the organizer")
	assert.Contains(t, page, "I&#39;ll bring bread")

	ans := a.post("accept", `{"activity":"`+joinID+`"}`)
	assert.Equal(t, "Accept", ans["type"])
	eventually(t, "B's join is accepted", func() bool {
		j := find(b.list("joins"), "id", joinID)
		return j != nil && j["state"] == "accepted"
	})
	evs := a.list("events")
	require.Len(t, evs, 1)
	assert.Equal(t, event, evs[0]["id"])
	ps := toList(evs[0]["participants"])
	require.Len(t, ps, 1)
	assert.Equal(t, map[string]any{"actor": bob, "joinId": joinID, "message": "I'll bring bread", "state": "accepted"}, ps[0])
	assert.Empty(t, toList(a.get("pending").(map[string]any)["joins"]))

	b.post("leave", `{"event":"`+event+`"}`)
	eventually(t, "A drops the participant", func() bool { return len(a.list("participants?event="+q(event))) == 0 })
	assert.Empty(t, b.list("joins"))

	// A free event: accepted at once; one announced to nobody is still
	// served.
	free := a.post("event", `{"name":"Open afternoon","announce":false}`)["event"].(string)
	b.post("join", `{"event":"`+free+`"}`)
	eventually(t, "the free event's Join is accepted", func() bool {
		j := find(b.list("joins"), "event", free)
		return j != nil && j["state"] == "accepted"
	})
}

// TestCommunity: a community on A, followed by B's bob, who posts in it;
// votes from both servers, a comment, and a moderator's removal.
func TestCommunity(t *testing.T) {
	_, aOrigin := start(t, "-user", "alice", "-user", "carol", "-user", "dave")
	_, bOrigin := start(t, "-user", "bob")
	a, b := ctl{t, aOrigin}, ctl{t, bOrigin}

	g := a.post("group", `{"name":"gardening","title":"Gardening","summary":"<p>Beds and seeds</p>","moderators":["`+aOrigin+`/users/carol"]}`)
	group := g["actor"].(string)
	assert.Equal(t, aOrigin+"/users/gardening", group)
	assert.Equal(t, "gardening@"+strings.TrimPrefix(aOrigin, "http://"), g["handle"])
	status, _ := a.do("POST", "group", `{"name":"gardening"}`)
	assert.Equal(t, http.StatusConflict, status, "a community exists once")

	b.post("follow", `{"handle":"`+g["handle"].(string)+`"}`)
	eventually(t, "bob follows the community", func() bool {
		f := find(b.list("following"), "actor", group)
		return f != nil && f["state"] == "accepted"
	})
	pst := b.post("post", `{"group":"`+g["handle"].(string)+`","name":"First frost","content":"<p>Cover the beds.</p>"}`)
	page := pst["page"].(string)
	assert.NotEmpty(t, pst["create"])
	eventually(t, "the post reaches the community", func() bool { return find(a.list("posts?group="+q(group)), "id", page) != nil })

	assert.NotEmpty(t, b.post("vote", `{"object":"`+page+`","dir":"up"}`)["activity"])
	assert.NotEmpty(t, a.post("vote", `{"object":"`+page+`","dir":"down","user":"carol"}`)["activity"])
	eventually(t, "both votes count on A", func() bool {
		v := a.get("votes?object=" + q(page)).(map[string]any)
		return v["up"] == 1.0 && v["down"] == 1.0
	})
	assert.NotEmpty(t, a.post("unvote", `{"object":"`+page+`","user":"carol"}`)["activity"])
	eventually(t, "carol's vote is withdrawn", func() bool {
		return a.get("votes?object=" + q(page)).(map[string]any)["down"] == 0.0
	})

	cm := a.post("comment", `{"inReplyTo":"`+page+`","content":"<p>Thanks!</p>"}`)
	assert.NotEmpty(t, cm["note"])
	assert.NotEmpty(t, cm["create"])

	// The community's page lists the post with its votes.
	html := getHTML(t, group)
	assert.Contains(t, html, "First frost")
	assert.Contains(t, html, "▲ 1 ▼ 0")

	// Only a moderator removes.
	status, out := a.do("POST", "remove", `{"object":"`+page+`","user":"dave"}`)
	assert.Equal(t, http.StatusForbidden, status, "dave does not moderate the community: %v", out)
	assert.Equal(t, false, a.get("votes?object=" + q(page)).(map[string]any)["hidden"])
	assert.NotEmpty(t, a.post("remove", `{"object":"`+page+`","reason":"off topic"}`)["activity"])
	assert.Equal(t, true, a.get("votes?object=" + q(page)).(map[string]any)["hidden"])
	eventually(t, "the removal reaches B", func() bool {
		return b.get("votes?object=" + q(page)).(map[string]any)["hidden"] == true
	})
	p := find(a.list("posts?group="+q(group)), "id", page)
	assert.Equal(t, true, p["hidden"])
}

// TestProjectsAndBadges: a project on A with B's bob invited as a
// contributor, an organization, and a badge assigned to bob; bob
// accepts each.
func TestProjectsAndBadges(t *testing.T) {
	_, aOrigin := start(t, "-user", "alice")
	_, bOrigin := start(t, "-user", "bob")
	a, b := ctl{t, aOrigin}, ctl{t, bOrigin}
	alice := a.get("info").(map[string]any)["actor"].(string)
	bob := b.get("info").(map[string]any)["actor"].(string)
	bobHandle := b.get("info").(map[string]any)["handle"].(string)

	project := a.post("project", `{"name":"Community garden","kind":"Project","description":"Vegetables for all"}`)["object"].(string)
	ms := a.list("members?object=" + q(project))
	require.Len(t, ms, 1)
	assert.Equal(t, alice, ms[0]["actor"])
	assert.Equal(t, "admin", ms[0]["role"])

	inv := a.post("invite", `{"object":"`+project+`","to":"`+bobHandle+`","role":"contributor"}`)["activity"].(string)
	eventually(t, "bob has the invitation", func() bool {
		in := find(toList(b.get("pending").(map[string]any)["invitations"]), "id", inv)
		return in != nil && in["object"] == project && in["role"] == "contributor" && in["actor"] == alice
	})
	assert.Equal(t, "Accept", b.post("accept", `{"activity":"`+inv+`"}`)["type"])
	eventually(t, "bob is a contributor", func() bool {
		m := find(a.list("members?object="+q(project)), "actor", bob)
		return m != nil && m["state"] == "accepted" && m["role"] == "contributor"
	})
	assert.Contains(t, getHTML(t, project), "contributor")

	org := a.post("project", `{"name":"Garden Friends","kind":"Organization"}`)
	assert.Equal(t, aOrigin+"/users/garden-friends", org["object"])
	assert.Len(t, a.list("members?object="+q(org["object"].(string))), 1)

	badge := a.post("badge", `{"name":"Green thumb","description":"Kept the garden alive"}`)["badge"].(string)
	asg := a.post("assign", `{"badge":"`+badge+`","to":"`+bob+`","narrative":"for the tomatoes"}`)["activity"].(string)
	h := find(a.list("holders?badge="+q(badge)), "actor", bob)
	require.NotNil(t, h)
	assert.Equal(t, "pending", h["state"])
	eventually(t, "bob has the badge to accept", func() bool {
		return find(toList(b.get("pending").(map[string]any)["badges"]), "id", asg) != nil
	})
	b.post("accept", `{"activity":"`+asg+`"}`)
	eventually(t, "bob holds the badge", func() bool {
		h := find(a.list("holders?badge="+q(badge)), "actor", bob)
		return h != nil && h["state"] == "accepted"
	})
	status, _ := b.do("POST", "assign", `{"badge":"`+badge+`","to":"`+alice+`"}`)
	assert.NotEqual(t, http.StatusOK, status, "only the issuer assigns")
}

// TestCommunityPostSanitized: a remote post's content cannot run script
// on the community's page.
func TestCommunityPostSanitized(t *testing.T) {
	_, origin := start(t)
	c := ctl{t, origin}
	group := c.post("group", `{"name":"town"}`)["actor"].(string)
	rem := fedtest.NewRemote(t)
	mallory := rem.Actor(t, "mallory", 0)
	page := rem.URL + "/post/1"
	body := fedtest.JSON(`{"id":%q,"type":"Create","actor":%q,"to":[%q,"https://www.w3.org/ns/activitystreams#Public"],"object":{"id":%q,"type":"Page","name":"Hello town","attributedTo":%q,"audience":%q,"to":[%q,"https://www.w3.org/ns/activitystreams#Public"],"content":"<p>hi there<script>alert(1)</script><img src=x onerror=alert(2)><a href=\"javascript:alert(3)\">x</a></p>"}}`,
		rem.URL+"/create/1", mallory, group, page, mallory, group, group)
	status, msg := fedtest.Do(t, rem.Signed(t, mallory, group+"/inbox", body))
	require.Equal(t, http.StatusAccepted, status, msg)

	for _, iri := range []string{group, origin + "/"} {
		html := getHTML(t, iri)
		assert.Contains(t, html, "Hello town", iri)
		assert.Contains(t, html, "hi there", iri)
		for _, bad := range []string{"<script", "onerror", "javascript:"} {
			assert.NotContains(t, html, bad, iri)
		}
	}
}

func toList(v any) []map[string]any {
	var out []map[string]any
	l, _ := v.([]any)
	for _, el := range l {
		if m, ok := el.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// getJSON fetches the ActivityStreams document of iri.
func getJSON(t *testing.T, iri string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, iri, nil)
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// getHTML fetches the page of iri, which must answer 200.
func getHTML(t *testing.T, iri string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, iri, nil)
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", iri, b)
	return string(b)
}
