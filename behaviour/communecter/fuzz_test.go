package communecter

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/fedi-go/fedi/actor"
	"github.com/fedi-go/fedi/storage/memory"
	"github.com/fedi-go/fedi/vocab"
	cvocab "github.com/fedi-go/fedi/vocab/communecter"
	"github.com/fedi-go/fedi/vocab/mobilizon"
)

// FuzzReadActivity: whatever a peer sends, reading it as an invitation,
// a Join, a role or a badge assignment does not panic.
func FuzzReadActivity(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"type":"Offer","actor":"https://a.example/u","object":{"type":"Role"},"target":[]}`))
	f.Add([]byte(`{"type":"Invite","actor":"https://a.example/u","object":["https://a.example/v","https://a.example/w"],"instrument":{"as":1}}`))
	reg := vocab.MustRegistry(mobilizon.Vocabulary, cvocab.Vocabulary)
	scheme, err := actor.NewScheme("https://ours.example")
	if err != nil {
		f.Fatal(err)
	}
	e := env{st: memory.New(), scheme: scheme, reg: reg}
	f.Fuzz(func(t *testing.T, data []byte) {
		it, err := reg.Decode(data)
		if err != nil {
			return
		}
		act, _ := it.(*vocab.Activity)
		_, _ = invitationOf(act)
		_, _, _ = joinOf(act)
		_ = roleIn(it)
		_, _, _ = e.assignmentOf(context.Background(), act)
		_ = SelfAssignable(it)
		_ = isProjectItem(it)
	})
}
