package lemmy

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/fedi-go/fedi/vocab"
)

// TestMemo: one fetch per key within the TTL, failures included, and a
// copy of its own for each caller.
func TestMemo(t *testing.T) {
	reg := vocab.MustRegistry()
	m := newMemo()
	calls := 0
	fetch := func() (vocab.Item, error) {
		calls++
		return vocab.NewOrderedCollection("https://l.example/c/main/moderators", vocab.IRIOf(vocab.NewObject("Person", "https://l.example/u/mod"))), nil
	}
	a, err := m.get("k", reg, fetch)
	require.NoError(t, err)
	b, err := m.get("k", reg, fetch)
	require.NoError(t, err)
	assert.Equal(t, 1, calls)
	assert.NotSame(t, a, b)
	members, _ := collectionItems(b)
	assert.Equal(t, []string{"https://l.example/u/mod"}, members)

	boom := errors.New("unreachable")
	for range 2 {
		_, err = m.get("other", reg, func() (vocab.Item, error) { calls++; return nil, boom })
		assert.ErrorIs(t, err, boom)
	}
	assert.Equal(t, 2, calls)
}
