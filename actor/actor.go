// Package actor describes an application's own actors to the rest of
// fedi: which actors it has, where their IRIs live, and the actor
// documents that peers fetch to find their inboxes and keys.
//
// The application decides which actors it has: a Person per user, a
// Group, an Organization, a Service such as an instance relay, an Event
// that acts. fedi asks a Directory for them, by IRI and by name; Store is
// the Directory that keeps them in a storage.Store, with their keys:
//
//	scheme, _ := actor.NewScheme("https://example.com")
//	actors := actor.NewStore(st, scheme, registry)
//	alice, err := actors.Create(ctx, actor.Actor{Name: "alice", Type: "Person"})
//	doc, err := actor.Document(ctx, scheme, st.Keys, alice) // what GET alice.IRI serves
package actor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Sentinel errors.
var (
	// ErrNotFound reports an IRI or name that is not one of our actors.
	ErrNotFound = errors.New("actor: no such local actor")
	// ErrGone reports an actor that was deleted: its IRI answers 410.
	ErrGone = errors.New("actor: the actor was deleted")
	// ErrExists reports a Create of an actor that exists.
	ErrExists = errors.New("actor: the actor exists")
)

// Actor is one of the application's own actors.
type Actor struct {
	// IRI is the actor's id.
	IRI string
	// Name is its preferredUsername, the user part of its WebFinger
	// handle.
	Name string
	// Type is its ActivityStreams type: Person, Group, Organization,
	// Service, Application, or a type a vocabulary defines, such as an
	// Event that acts.
	Type string
	// ManuallyApprovesFollowers makes a Follow wait for the actor's
	// approval instead of being accepted at once.
	ManuallyApprovesFollowers bool
	// Profile holds what the application publishes of the actor beyond
	// what fedi fills in: name, summary, icon, attachments, extension
	// properties. It is usually a *vocab.Actor; an Event that acts is a
	// *vocab.Object. It may be nil.
	Profile vocab.Item
}

// Directory finds the application's actors. Implementations are safe for
// concurrent use. An application whose actors live in its own tables
// implements it over them; Store keeps them in a storage.Store.
type Directory interface {
	// ByIRI returns the local actor iri, or an error wrapping ErrNotFound
	// (or ErrGone for a deleted one).
	ByIRI(ctx context.Context, iri string) (*Actor, error)
	// ByName returns the local actor whose preferredUsername is name, or
	// an error wrapping ErrNotFound (or ErrGone).
	ByName(ctx context.Context, name string) (*Actor, error)
}

// Document returns the actor document of a: its Profile with what peers
// need filled in from the scheme and the keys: id, type,
// preferredUsername, inbox, outbox, followers, following, liked,
// endpoints.sharedInbox, manuallyApprovesFollowers and publicKey (the
// newest key of keys for the actor, as SPKI PEM). A nil keys, or an actor
// without a key, gives a document without publicKey.
func Document(ctx context.Context, s Scheme, keys storage.KeySource, a *Actor) (vocab.Item, error) {
	var pub ap.PublicKey
	if keys != nil {
		ks, err := keys.Keys(ctx, a.IRI)
		if err != nil {
			return nil, fmt.Errorf("actor: keys of %s: %w", a.IRI, err)
		}
		if len(ks) > 0 {
			signer, err := ks[0].PrivateKey()
			if err != nil {
				return nil, fmt.Errorf("actor: key of %s: %w", a.IRI, err)
			}
			pem, err := signature.PublicKeyPEM(signer.Public())
			if err != nil {
				return nil, fmt.Errorf("actor: key of %s: %w", a.IRI, err)
			}
			pub = ap.PublicKey{ID: ap.IRI(ks[0].ID), Owner: ap.IRI(a.IRI), PublicKeyPem: pem}
		}
	}
	col := func(name string) ap.IRI { return ap.IRI(s.Collection(a.IRI, name)) }
	maf := a.ManuallyApprovesFollowers
	switch p := a.Profile.(type) {
	case nil:
		doc := vocab.NewActor(a.Type, ap.IRI(a.IRI))
		fillActor(doc, a, s, col, pub, maf)
		return doc, nil
	case *vocab.Actor:
		doc := *p
		fillActor(&doc, a, s, col, pub, maf)
		return &doc, nil
	case *vocab.Object:
		// A type whose shape is not an actor's, such as an Event that
		// acts: the actor properties go where the encoder writes any
		// property the shape lacks.
		doc := *p
		doc.ID, doc.Type = ap.IRI(a.IRI), ap.ActivityVocabularyType(a.Type)
		doc.Extra = make(vocab.Extra, len(p.Extra)+9)
		for k, v := range p.Extra {
			doc.Extra[k] = v
		}
		set := func(k string, v any) {
			b, _ := json.Marshal(v)
			doc.Extra[k] = b
		}
		set("preferredUsername", a.Name)
		set("inbox", col(Inbox))
		set("outbox", col(Outbox))
		set("followers", col(Followers))
		set("following", col(Following))
		set("endpoints", map[string]string{"sharedInbox": s.SharedInbox})
		if pub.ID != "" {
			set("publicKey", map[string]string{"id": string(pub.ID), "owner": string(pub.Owner), "publicKeyPem": pub.PublicKeyPem})
		}
		doc.ManuallyApprovesFollowers = &maf
		return &doc, nil
	}
	return nil, fmt.Errorf("actor: %s: a profile of type %T cannot be an actor document", a.IRI, a.Profile)
}

func fillActor(doc *vocab.Actor, a *Actor, s Scheme, col func(string) ap.IRI, pub ap.PublicKey, maf bool) {
	doc.ID, doc.Type = ap.IRI(a.IRI), ap.ActivityVocabularyType(a.Type)
	doc.PreferredUsername = vocab.Text(a.Name)
	doc.Inbox, doc.Outbox = col(Inbox), col(Outbox)
	doc.Followers, doc.Following, doc.Liked = col(Followers), col(Following), col(Liked)
	doc.Endpoints = &ap.Endpoints{SharedInbox: ap.IRI(s.SharedInbox)}
	doc.PublicKey = pub
	doc.ManuallyApprovesFollowers = &maf
}

// fromDocument reads an actor back from its stored document.
func fromDocument(iri string, it vocab.Item) (*Actor, error) {
	a := &Actor{IRI: iri, Profile: it}
	switch d := it.(type) {
	case *vocab.Actor:
		a.Type, a.Name = string(d.Type), vocab.TextOf(d.PreferredUsername)
		a.ManuallyApprovesFollowers = d.ManuallyApprovesFollowers != nil && *d.ManuallyApprovesFollowers
	case *vocab.Object:
		a.Type = string(d.Type)
		if raw, ok := d.Extra["preferredUsername"]; ok {
			_ = json.Unmarshal(raw, &a.Name)
		}
		a.ManuallyApprovesFollowers = d.ManuallyApprovesFollowers != nil && *d.ManuallyApprovesFollowers
	default:
		return nil, fmt.Errorf("actor: %s: stored document of type %T is not an actor", iri, it)
	}
	if a.Name == "" {
		return nil, fmt.Errorf("actor: %s: stored document has no preferredUsername", iri)
	}
	return a, nil
}

// Handle returns the WebFinger handle of a on host: "name@host".
func Handle(a *Actor, host string) string { return a.Name + "@" + host }
