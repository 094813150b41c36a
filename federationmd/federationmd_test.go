package federationmd_test

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

	"github.com/fedi-go/fedi/behaviour/core"
	"github.com/fedi-go/fedi/federationmd"
	"github.com/fedi-go/fedi/inbox"
	"github.com/fedi-go/fedi/internal/testpayload"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/mobilizon"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func document(t *testing.T) federationmd.Document {
	reg := vocab.MustRegistry(mobilizon.Vocabulary)
	mux := inbox.NewMux(reg)
	core.Register(mux, core.Options{})
	inbox.On(mux, "Join Event", "adds the actor to the event's participants, or keeps the Join pending with its message",
		func(context.Context, *inbox.Activity, *vocab.Object) error { return nil })
	var examples [][]byte
	for _, name := range []string{
		"mobilizon__mobilizon-fixtures__mobilizon-post-activity.json",
		"mobilizon__mobilizon-docs__activity_pub-md__join-participationMessage.json",
		"mobilizon__mobilizon-docs__activity_pub-md__event-repliesModerationOption.json",
	} {
		examples = append(examples, testpayload.Read(t, name))
	}
	return federationmd.Document{
		Name:       "Example",
		Philosophy: "Example hosts events; people anywhere join them.",
		Registry:   reg,
		Mux:        mux,
		Sent: []federationmd.Sent{
			{Activity: "Create", Object: "Event", Doc: "when an organizer publishes an event"},
			{Activity: "Accept", Object: "Join", Doc: "when an organizer accepts a participant."},
		},
		Examples: examples,
	}
}

// TestWrite compares with the golden file (go test -update rewrites it).
func TestWrite(t *testing.T) {
	var b bytes.Buffer
	require.NoError(t, federationmd.Write(&b, document(t)))
	golden := filepath.Join("testdata", "FEDERATION.golden.md")
	if *update {
		require.NoError(t, os.WriteFile(golden, b.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	assert.Equal(t, string(want), b.String(), "run go test -update ./federationmd after a deliberate change")

	out := b.String()
	for _, s := range []string{
		"## Federation philosophy\n\nExample hosts events",
		"| `Join` | `Event` |  | yes |",
		"| `Create` | `Event` | yes |  |",
		"- `Join/Event`: adds the actor to the event's participants",
		"- `Follow`: adds the actor to the followers and answers with Accept",
		"- `joinMode`: `{\"@id\":\"mz:joinMode\",\"@type\":\"mz:joinModeType\"}`",
		"\"participationMessage\":",
		"- `sensitive`: `\"as:sensitive\"`",
	} {
		assert.Contains(t, out, s)
	}
	// Deterministic: the same document twice.
	var again bytes.Buffer
	require.NoError(t, federationmd.Write(&again, document(t)))
	assert.Equal(t, out, again.String())
	assert.False(t, strings.Contains(out, "Join/Event`: adds the actor to the event's participants, or keeps the Join pending with its message."), "one line, without its final period")
}
