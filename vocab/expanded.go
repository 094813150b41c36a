package vocab

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/piprate/json-gold/ld"
)

// Expanded JSON-LD (full IRIs as keys, @id and @type) is rare on the wire
// but real: some libraries send it. Decode compacts it against the
// registry's context with json-gold and then decodes the result as usual.
// Only the embedded contexts are ever loaded; nothing is fetched.

//go:embed contexts/*.jsonld
var contextFiles embed.FS

// offlineLoader serves the embedded contexts and refuses everything else.
type offlineLoader struct{}

// embeddedContexts parses the embedded context documents once. json-gold
// only reads the documents it is given.
var embeddedContexts = sync.OnceValues(func() (map[string]any, error) {
	out := map[string]any{}
	for _, file := range []string{"contexts/activitystreams.jsonld", "contexts/security-v1.jsonld"} {
		data, err := contextFiles.ReadFile(file)
		if err != nil {
			return nil, err
		}
		var doc any
		if err := json.Unmarshal(data, &doc); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		out[file] = doc
	}
	return out, nil
})

func (offlineLoader) LoadDocument(u string) (*ld.RemoteDocument, error) {
	var file string
	switch strings.TrimSuffix(u, "#") {
	case ActivityStreamsContext, "http://www.w3.org/ns/activitystreams",
		"https://www.w3.org/ns/activitystreams.jsonld", "http://www.w3.org/ns/activitystreams.jsonld":
		file = "contexts/activitystreams.jsonld"
	case SecurityContext, "http://w3id.org/security/v1":
		file = "contexts/security-v1.jsonld"
	default:
		return nil, fmt.Errorf("context %s is not available offline; only the ActivityStreams and security contexts are", u)
	}
	docs, err := embeddedContexts()
	if err != nil {
		return nil, err
	}
	return &ld.RemoteDocument{DocumentURL: u, Document: docs[file]}, nil
}

func (r *Registry) decodeExpanded(data []byte) (Item, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, &DecodeError{Err: ErrSyntax, Path: "$", Detail: err.Error()}
	}
	ctx, err := r.parsedContext()
	if err != nil {
		return nil, err
	}
	opts := ld.NewJsonLdOptions("")
	opts.DocumentLoader = offlineLoader{}
	compacted, err := ld.NewJsonLdProcessor().Compact(doc, map[string]any{"@context": ctx}, opts)
	if err != nil {
		var lderr *ld.JsonLdError
		if errors.As(err, &lderr) && lderr.Code == ld.LoadingRemoteContextFailed {
			return nil, &DecodeError{Err: ErrContext, Path: "$.@context", Detail: lderr.Error()}
		}
		return nil, &DecodeError{Err: ErrSyntax, Path: "$", Detail: "expanded JSON-LD: " + err.Error()}
	}
	if _, ok := compacted["@graph"]; ok {
		return nil, &DecodeError{Err: ErrNotObject, Path: "$",
			Detail: "the JSON-LD document holds several top-level nodes"}
	}
	out, err := json.Marshal(compacted)
	if err != nil {
		return nil, fmt.Errorf("vocab: compacted JSON-LD: %w", err)
	}
	d := r.decoders.Get().(*decoder)
	defer func() {
		d.reset()
		r.decoders.Put(d)
	}()
	it, err := d.decodeDocument(out, false)
	if err != nil {
		return nil, err
	}
	if p, ok := partsOf(it); ok {
		p.st.flags |= stExpanded
		p.st.notes = append(p.st.notes, Problem{Path: "$", Severity: SeverityWarning,
			Message: "expanded JSON-LD, compacted against the registry's context"})
	}
	return it, nil
}

// parsedContext returns the registry's full context as json-gold reads it,
// built once.
func (r *Registry) parsedContext() (any, error) {
	r.ctxOnce.Do(func() {
		r.ctxErr = json.Unmarshal(r.Context(), &r.ctxParsed)
	})
	if r.ctxErr != nil {
		return nil, fmt.Errorf("vocab: the registry's context: %w", r.ctxErr)
	}
	return r.ctxParsed, nil
}
