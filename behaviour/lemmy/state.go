package lemmy

import (
	"context"
	"net/http"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/vocab"
)

// Hidden reports whether the item iri (a post, comment or private
// message, ours or another server's) is hidden: deleted by its creator
// or removed by a moderator, and not restored since. A hidden item stays
// stored, for its Undo to restore. Serving answers it as gone
// (ServeHidden does), and applications leave it out of what they show.
func Hidden(ctx context.Context, st storage.Store, s actor.Scheme, iri string) (bool, error) {
	for _, coll := range []string{DeletedIRI(s), RemovedIRI(s)} {
		ok, err := contains(ctx, st, coll, iri)
		if ok || err != nil {
			return ok, err
		}
	}
	return false, nil
}

// Locked reports whether the post or comment iri is locked: it takes no
// new comment below it, except from a moderator.
func Locked(ctx context.Context, st storage.Store, s actor.Scheme, iri string) (bool, error) {
	return contains(ctx, st, LockedIRI(s), iri)
}

// Votes returns the upvotes and downvotes of an item: one per actor.
func Votes(ctx context.Context, st storage.Store, s actor.Scheme, item string) (up, down int, err error) {
	if up, err = st.Collections.Count(ctx, s.Collection(item, actor.Likes), storage.Accepted); err != nil {
		return 0, 0, err
	}
	down, err = st.Collections.Count(ctx, s.Collection(item, Dislikes), storage.Accepted)
	return up, down, err
}

// IsCommunity reports whether iri is one of our communities.
func IsCommunity(ctx context.Context, st storage.Store, s actor.Scheme, iri string) (bool, error) {
	return scope{st: st, s: s}.isCommunity(ctx, iri)
}

// IsModerator reports whether who moderates our community.
func IsModerator(ctx context.Context, st storage.Store, s actor.Scheme, community, who string) (bool, error) {
	return contains(ctx, st, s.Collection(community, Moderators), who)
}

// ServeHidden wraps the handler that serves our objects (serve.Handler)
// so that a GET of a hidden item answers 410 Gone with a Tombstone, as
// Lemmy answers for a deleted or removed item, rather than the item: it
// stays stored, and is served again once restored.
func ServeHidden(st storage.Store, s actor.Scheme, reg *vocab.Registry, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			next.ServeHTTP(w, r)
			return
		}
		iri := s.Origin + r.URL.EscapedPath()
		hidden, err := Hidden(r.Context(), st, s, iri)
		if err != nil || !hidden {
			next.ServeHTTP(w, r)
			return
		}
		former := ""
		if o, err := st.Objects.Get(r.Context(), iri); err == nil {
			former = o.Type
		}
		body, err := reg.Encode(vocab.NewTombstone(ap.IRI(iri), former, time.Time{}))
		if err != nil {
			http.Error(w, "internal error", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/activity+json")
		w.Header().Add("Vary", "Accept")
		w.WriteHeader(http.StatusGone)
		if r.Method == http.MethodGet {
			_, _ = w.Write(body)
		}
	})
}
