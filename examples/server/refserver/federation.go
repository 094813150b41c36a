package refserver

import (
	"bytes"
	"io"
	"net/http"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/federationmd"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/communecter"
	"github.com/fedi-go/fedi/vocab/lemmy"
	"github.com/fedi-go/fedi/vocab/mobilizon"
)

// Philosophy is the reference server's federation philosophy, the first
// section of its FEDERATION.md.
const Philosophy = `The fedi reference server shows what the fedi library does, on one machine. Its people are Person actors; beside them it hosts what the platforms it speaks federate: Mobilizon events that people anywhere join (freely, with the organizer's approval, or by invitation), Lemmy-style communities (Group actors that announce every post, comment and vote to their followers, moderated by their moderators), Communecter projects and organizations with members, roles and badges, and Gathio-style events that act and answer invitations. An instance relay actor announces the public posts of its people to the instances that follow it.

It speaks ActivityPub server to server, signs every request with draft-cavage HTTP signatures (RFC 9421 to hosts seen to verify it), verifies both, and trusts nothing an activity says of another server without fetching it from there. It keeps what it receives; deletions it receives hide or tombstone what they name, as the sending platform means them.`

// Sent lists what the reference server sends, for FEDERATION.md.
var Sent = []federationmd.Sent{
	{Activity: "Follow", Doc: "when a user follows an actor (control API follow)"},
	{Activity: "Accept", Object: "Follow", Doc: "when a follow is accepted: at once, or by the user for an actor that approves followers by hand"},
	{Activity: "Reject", Object: "Follow", Doc: "when the user refuses a follow request"},
	{Activity: "Undo", Doc: "when a user takes back a Follow, Like, Announce or Block"},
	{Activity: "Create", Object: "Note", Doc: "when a user posts a note, to the public, its followers or the actors it mentions"},
	{Activity: "Update", Object: "Note", Doc: "when a user edits a note; Update/Person when a user changes its profile"},
	{Activity: "Delete", Object: "Tombstone", Doc: "when a user deletes a note or an event; it answers 410 Gone after"},
	{Activity: "Like", Doc: "when a user likes an object"},
	{Activity: "Announce", Doc: "when a user boosts an object; a community announces what it receives; the relay announces public posts"},
}

// Document returns the reference server's FEDERATION.md document.
func (s *Server) Document() federationmd.Document {
	sent := append([]federationmd.Sent(nil), Sent...)
	sent = append(sent, platformSent...)
	return federationmd.Document{
		Name:       "the fedi reference server",
		Philosophy: Philosophy,
		Registry:   s.fed.Registry,
		Mux:        s.fed.Mux,
		Sent:       sent,
		Examples:   Samples(s.fed.Registry),
	}
}

// platformSent is what the platforms' files add to Sent.
var platformSent []federationmd.Sent

// WriteFederationMD writes the FEDERATION.md of the server.
func (s *Server) WriteFederationMD(w io.Writer) error { return federationmd.Write(w, s.Document()) }

func (s *Server) federationMD(w http.ResponseWriter, _ *http.Request) {
	var b bytes.Buffer
	if err := s.WriteFederationMD(&b); err != nil {
		s.log.Error("FEDERATION.md", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/markdown; charset=utf-8")
	_, _ = w.Write(b.Bytes())
}

// Samples returns sample documents that carry the extension properties,
// for the examples of FEDERATION.md. They are built, not fetched, so
// that the document is the same on every machine.
func Samples(reg *vocab.Registry) [][]byte {
	const o = "https://example.com"
	start := time.Date(2026, 12, 24, 18, 0, 0, 0, time.UTC)
	var out [][]byte
	add := func(it vocab.Item) {
		if b, err := reg.Encode(it); err == nil {
			out = append(out, b)
		}
	}
	ev := mobilizon.NewEvent(o+"/events/1", o+"/users/alice", "Winter picnic", start, start.Add(3*time.Hour))
	capacity, remaining, count, online := 40, 12, 28, false
	ev.JoinMode = mobilizon.JoinRestricted
	ev.SetRepliesModeration(mobilizon.RepliesModeration("allow_all"))
	ev.MaximumAttendeeCapacity, ev.RemainingAttendeeCapacity, ev.ParticipantCount, ev.IsOnline = &capacity, &remaining, &count, &online
	ev.Timezone, ev.Category, ev.UUID, ev.InLanguage = "Europe/Paris", "MEETING", "0d8f4e8e-9d31-4a4e-9a53-0c9b0c1e2f01", "en"
	add(ev.Object)
	add(mobilizon.NewJoin(ap.IRI(o+"/users/bob"), ap.IRI(o+"/events/1"), "I'll bring the soup!").Activity)

	post := lemmy.NewPost(o+"/post/1", o+"/u/alice", o+"/c/gardening", "First frost", "<p>Cover the beds tonight.</p>")
	pinned := true
	post.Stickied = &pinned
	add(post.Object)
	group := vocab.NewActor("Group", o+"/c/gardening")
	if c, ok := lemmy.CommunityOf(group); ok {
		restricted := false
		c.Moderators = ap.IRI(o + "/c/gardening/moderators")
		c.PostingRestrictedToMods = &restricted
	}
	add(group)
	add(lemmy.NewLike(o+"/u/bob", o+"/post/1", o+"/c/gardening"))

	add(communecter.NewProject(o+"/projects/1", o+"/users/alice", "Community garden", "Growing vegetables together").Object)
	add(communecter.NewOffer(o+"/users/alice", o+"/users/bob", o+"/projects/1", "contributor"))
	add(communecter.NewBadge(o+"/badges/1", o+"/users/alice", "Green thumb", "Kept the garden alive all winter"))

	person := vocab.NewActor("Person", o+"/users/alice")
	yes := true
	person.ManuallyApprovesFollowers, person.Discoverable, person.Indexable = &yes, &yes, &yes
	person.Featured = ap.IRI(o + "/users/alice/featured")
	person.AlsoKnownAs = ap.ItemCollection{ap.IRI("https://old.example/users/alice")}
	add(person)
	note := vocab.NewObject("Note", o+"/notes/1")
	note.Sensitive = &yes
	note.Content = vocab.Text("A spoiler")
	add(note)
	video := vocab.NewObject("Video", o+"/videos/1")
	video.CommentsEnabled = &yes
	add(video)
	return out
}

// WriteDocument writes the reference server's FEDERATION.md without
// running it: the registrations are the same whatever the store and the
// origin.
func WriteDocument(w io.Writer) error {
	s, err := newInMemory()
	if err != nil {
		return err
	}
	defer s.Close()
	return s.WriteFederationMD(w)
}
