// Package federationmd writes a FEDERATION.md: the document that says how
// a server federates, in the shape the fediverse's implementers settled
// on (a federation philosophy, the activities sent and received, the
// behaviour of the inbox per activity, the extension properties with
// their JSON-LD definitions and examples). fedi knows most of it: the
// registry knows every vocabulary, type and extension term, and the
// inbox's mux knows every handler and the one line that says what it
// does. The application adds its philosophy and what it sends.
//
//	err := federationmd.Write(w, federationmd.Document{
//		Name:       "Example",
//		Philosophy: "Example federates events ...",
//		Registry:   reg,
//		Mux:        fed.Mux,
//		Sent:       []federationmd.Sent{{Activity: "Create", Object: "Note", Doc: "when a user posts"}},
//	})
//
// The output is deterministic, so that a test can tell a committed
// FEDERATION.md that went stale.
package federationmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/vocab"
)

// Sent is one kind of activity the application sends, and when.
type Sent struct {
	Activity string // "Create"
	Object   string // "Note", or "" for any object
	Doc      string // "when a user posts a note to followers"
}

// Document is what a FEDERATION.md is written from.
type Document struct {
	// Name is the server's or application's name, for the title.
	Name string
	// Philosophy is the federation philosophy: a paragraph or more of
	// Markdown, the application's own words.
	Philosophy string
	// Registry gives the vocabularies and their extension properties.
	Registry *vocab.Registry
	// Mux gives the activities received and what the inbox does with
	// each.
	Mux *inbox.Mux
	// Sent lists the activities the application sends.
	Sent []Sent
	// Examples are sample documents (activities, objects, actors) from
	// which an example of each extension property is taken: the
	// smallest object in them that carries it.
	Examples [][]byte
	// Extra is Markdown appended at the end, for what the application
	// wants to add (limits, moderation, contacts).
	Extra string
}

// Write writes the FEDERATION.md of d to w.
func Write(w io.Writer, d Document) error {
	if d.Registry == nil || d.Mux == nil {
		return errors.New("federationmd: Document.Registry and Document.Mux are required")
	}
	var b bytes.Buffer
	name := d.Name
	if name == "" {
		name = "this server"
	}
	fmt.Fprintf(&b, "# Federation of %s\n\n", name)
	b.WriteString("This document says how " + name + " federates over ActivityPub: the activities it sends and receives, what its inbox does with each, and the extension properties it reads and writes. It is generated from the server's own registrations; `Activity/Object` reads as an `Activity` whose `object` is an `Object`.\n\n")

	b.WriteString("## Federation philosophy\n\n")
	if p := strings.TrimSpace(d.Philosophy); p != "" {
		b.WriteString(p + "\n\n")
	} else {
		b.WriteString("(The application has not described it.)\n\n")
	}

	routes := d.Mux.Routes()
	writeSummary(&b, d.Sent, routes)
	writeSent(&b, d.Sent)
	writeInbox(&b, routes)
	if err := writeProperties(&b, d.Registry, d.Examples); err != nil {
		return err
	}
	if x := strings.TrimSpace(d.Extra); x != "" {
		b.WriteString(x + "\n")
	}
	_, err := w.Write(b.Bytes())
	return err
}

// pair names an activity and its object type.
func pair(act, obj string) string {
	if obj == "" {
		return act
	}
	return act + "/" + obj
}

func writeSummary(b *bytes.Buffer, sent []Sent, routes []inbox.Route) {
	type row struct{ sent, received bool }
	rows := map[string]*row{}
	get := func(k string) *row {
		if rows[k] == nil {
			rows[k] = &row{}
		}
		return rows[k]
	}
	for _, s := range sent {
		get(pair(s.Activity, s.Object)).sent = true
	}
	for _, r := range routes {
		if r.Pattern != "*" {
			get(pair(r.Activity, r.Object)).received = true
		}
	}
	keys := make([]string, 0, len(rows))
	for k := range rows {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b.WriteString("## Supported activities\n\n| Activity | Object | Sent | Received |\n| --- | --- | --- | --- |\n")
	for _, k := range keys {
		act, obj, _ := strings.Cut(k, "/")
		if obj == "" {
			obj = "any"
		}
		fmt.Fprintf(b, "| `%s` | %s | %s | %s |\n", act, code(obj), yes(rows[k].sent), yes(rows[k].received))
	}
	b.WriteString("\n")
}

func code(s string) string {
	if s == "any" {
		return s
	}
	return "`" + s + "`"
}

func yes(v bool) string {
	if v {
		return "yes"
	}
	return ""
}

func writeSent(b *bytes.Buffer, sent []Sent) {
	b.WriteString("## Activities sent\n\n")
	if len(sent) == 0 {
		b.WriteString("(None declared.)\n\n")
		return
	}
	s := append([]Sent(nil), sent...)
	sort.SliceStable(s, func(i, j int) bool { return pair(s[i].Activity, s[i].Object) < pair(s[j].Activity, s[j].Object) })
	for _, x := range s {
		fmt.Fprintf(b, "- `%s`: %s\n", pair(x.Activity, x.Object), oneLine(x.Doc))
	}
	b.WriteString("\n")
}

func writeInbox(b *bytes.Buffer, routes []inbox.Route) {
	b.WriteString("## Inbox behaviour\n\n")
	b.WriteString("Every activity is first checked the same way: its HTTP signature (draft-cavage or RFC 9421) by a key its actor owns; its id, and the id of every object it embeds, on its actor's origin, or the object fetched from its own origin; a created object attributed to actors of the sender's server only; an update or deletion only of what the actor owns; an undo only of the actor's own activities. Each is then processed once per recipient. What the inbox then does, per activity (an `Activity/Object` entry takes precedence over its `Activity` alone; stacked entries are tried top first):\n\n")
	for _, r := range routes {
		if r.Pattern == "*" {
			continue
		}
		fmt.Fprintf(b, "- `%s`: %s\n", pair(r.Activity, r.Object), oneLine(r.Doc))
	}
	b.WriteString("- Any other activity: ")
	doc := "it is stored and listed in the recipient's inbox collection"
	for _, r := range routes {
		if r.Pattern == "*" {
			doc = r.Doc
		}
	}
	b.WriteString(oneLine(doc) + ".\n\n")
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.TrimSuffix(s, ".")
}

// writeProperties lists each vocabulary's extension properties, and the
// shared ones every object may carry, with their definitions.
func writeProperties(b *bytes.Buffer, reg *vocab.Registry, examples [][]byte) error {
	defs, err := contextDefinitions(reg.Context())
	if err != nil {
		return err
	}
	ex := newExamples(examples)
	b.WriteString("## Extension properties\n\nEvery document carries one `@context`: the ActivityStreams and security contexts and the definitions below. Properties outside the ActivityStreams vocabulary, by vocabulary:\n\n")
	claimed := map[string]bool{}
	vocabs := reg.Vocabularies()
	for _, v := range vocabs {
		for _, t := range v.Terms() {
			claimed[string(t.Name)] = true
		}
	}
	var shared []string
	for _, name := range defs.order {
		if !claimed[name] && !isPrefix(defs.m[name]) && !isClass(name) {
			shared = append(shared, name)
		}
	}
	if len(shared) > 0 {
		b.WriteString("### Shared extensions\n\nUsed across the fediverse (Mastodon, PeerTube, the security vocabulary); read and written on every object.\n\n")
		writeTerms(b, shared, defs, ex)
	}
	for _, v := range vocabs {
		var names []string
		for _, t := range v.Properties() {
			names = append(names, string(t.Name))
		}
		types := v.Types()
		if len(names) == 0 && len(types) == 0 {
			continue
		}
		fmt.Fprintf(b, "### %s\n\n", v.Name())
		if len(types) > 0 {
			b.WriteString("Types: ")
			for i, t := range types {
				if i > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(b, "`%s` (`%s`)", t.Name, t.ID)
			}
			b.WriteString(".\n\n")
		}
		writeTerms(b, names, defs, ex)
	}
	b.WriteString("### The context\n\n```json\n")
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, reg.Context(), "", "  "); err != nil {
		return err
	}
	b.Write(pretty.Bytes())
	b.WriteString("\n```\n\n")
	return nil
}

func writeTerms(b *bytes.Buffer, names []string, defs definitions, ex *examples) {
	for _, name := range names {
		def, ok := defs.m[name]
		if !ok {
			continue
		}
		fmt.Fprintf(b, "- `%s`: `%s`\n", name, compact(def))
		if e := ex.find(name); e != "" {
			b.WriteString("\n  ```json\n")
			for _, line := range strings.Split(e, "\n") {
				b.WriteString("  " + line + "\n")
			}
			b.WriteString("  ```\n\n")
		}
	}
	b.WriteString("\n")
}

func compact(raw json.RawMessage) string {
	var out bytes.Buffer
	if json.Compact(&out, raw) != nil {
		return string(raw)
	}
	return out.String()
}

func isPrefix(raw json.RawMessage) bool {
	var s string
	return json.Unmarshal(raw, &s) == nil && (strings.HasSuffix(s, "#") || strings.HasSuffix(s, "/"))
}

func isClass(name string) bool { return name != "" && name[0] >= 'A' && name[0] <= 'Z' }

// definitions are the term definitions of a context, in order.
type definitions struct {
	m     map[string]json.RawMessage
	order []string
}

func contextDefinitions(ctx []byte) (definitions, error) {
	d := definitions{m: map[string]json.RawMessage{}}
	var parts []json.RawMessage
	if err := json.Unmarshal(ctx, &parts); err != nil {
		return d, fmt.Errorf("federationmd: the registry's context: %w", err)
	}
	for _, p := range parts {
		if len(p) == 0 || p[0] != '{' {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(p))
		if _, err := dec.Token(); err != nil {
			return d, err
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return d, err
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return d, err
			}
			k := tok.(string)
			if _, seen := d.m[k]; !seen {
				d.order = append(d.order, k)
			}
			d.m[k] = v
		}
	}
	return d, nil
}

// examples finds, for a property, the smallest object of the samples
// that carries it.
type examples struct{ docs []any }

func newExamples(samples [][]byte) *examples {
	e := &examples{}
	for _, s := range samples {
		var v any
		dec := json.NewDecoder(bytes.NewReader(s))
		dec.UseNumber()
		if dec.Decode(&v) == nil {
			e.docs = append(e.docs, v)
		}
	}
	return e
}

func (e *examples) find(term string) string {
	var best map[string]any
	bestSize := -1
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if _, ok := x[term]; ok {
				if b, err := json.Marshal(x); err == nil && (bestSize < 0 || len(b) < bestSize) {
					best, bestSize = x, len(b)
				}
			}
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(x[k])
			}
		case []any:
			for _, el := range x {
				walk(el)
			}
		}
	}
	for _, d := range e.docs {
		walk(d)
	}
	if best == nil {
		return ""
	}
	// Show what identifies the object and the property, not the rest.
	show := map[string]any{term: best[term]}
	for _, k := range []string{"type", "id"} {
		if v, ok := best[k]; ok {
			show[k] = v
		}
	}
	out, err := json.MarshalIndent(show, "", "  ")
	if err != nil {
		return ""
	}
	return string(out)
}
