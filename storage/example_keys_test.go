package storage_test

import (
	"context"
	"crypto"
	"crypto/ed25519"
	"fmt"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/memory"
)

// kmsKeys is a KeySource whose private keys never leave a key service: it
// hands out signers, not PEM. Here the "service" is a map.
type kmsKeys struct {
	signers map[string]crypto.Signer // key id → a client of the service
	owners  map[string]string        // key id → actor
}

func (s kmsKeys) Key(ctx context.Context, keyID string) (storage.Key, error) {
	signer, ok := s.signers[keyID]
	if !ok {
		return storage.Key{}, fmt.Errorf("kms: key %q: %w", keyID, storage.ErrNotFound)
	}
	return storage.Key{ID: keyID, Owner: s.owners[keyID], Signer: signer}, nil
}

func (s kmsKeys) Keys(ctx context.Context, owner string) ([]storage.Key, error) {
	var ks []storage.Key
	for id, o := range s.owners {
		if o == owner {
			k, _ := s.Key(ctx, id)
			ks = append(ks, k)
		}
	}
	return ks, nil
}

// An application keeps its actors' keys in a KMS and everything else in a
// database: it replaces the store's Keys with its own KeySource.
func ExampleKeySource() {
	ctx := context.Background()
	alice := "https://example.com/users/alice"
	st := memory.New() // or sqlite/postgres
	st.Keys = kmsKeys{
		signers: map[string]crypto.Signer{alice + "#main-key": ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))},
		owners:  map[string]string{alice + "#main-key": alice},
	}

	k, _ := st.Keys.Key(ctx, alice+"#main-key")
	signer, _ := k.PrivateKey() // what the signature package signs with
	sig, _ := signer.Sign(nil, []byte("(request-target): post /inbox"), crypto.Hash(0))
	fmt.Println(k.Owner, len(sig))

	_, writable := st.Keys.(storage.KeyStore)
	fmt.Println("writable:", writable)
	// Output:
	// https://example.com/users/alice 64
	// writable: false
}
