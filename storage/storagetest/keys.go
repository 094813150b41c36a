package storagetest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"testing"
	"time"

	"github.com/fedi-go/fedi/storage"
)

// TestKeys checks a KeySource. newKeys is called once per subtest and must
// return an empty store. The tests that write run only when the source
// also implements KeyStore.
func TestKeys(t *testing.T, newKeys func(t *testing.T) storage.KeySource) {
	t.Helper()
	store := func(t *testing.T) storage.KeyStore {
		t.Helper()
		ks, ok := newKeys(t).(storage.KeyStore)
		if !ok {
			t.Skip("the KeySource is not a KeyStore")
		}
		return ks
	}
	runAll(t, newKeys, []subtest[storage.KeySource]{
		{"Missing", keysMissing},
		{"UnstorableKeys", keysUnstorable},
	})
	runAll(t, store, []subtest[storage.KeyStore]{
		{"PutGet", keysPutGet},
		{"Order", keysOrder},
		{"Conflict", keysConflict},
		{"Delete", keysDelete},
		{"DeleteUnstorable", keysDeleteUnstorable},
		{"Invalid", keysInvalid},
		{"LongIRIs", keysLongIRIs},
		{"Cancelled", keysCancelled},
	})
}

func keysMissing(t *testing.T, ctx context.Context, s storage.KeySource) {
	_, err := s.Key(ctx, iri(t, "alice#main-key"))
	mustErr(t, err, storage.ErrNotFound, "Key of a missing key")
	ks, err := s.Keys(ctx, iri(t, "alice"))
	must(t, err, "Keys of an actor without keys")
	if len(ks) != 0 {
		t.Fatalf("Keys of an actor without keys = %v", ks)
	}
}

// keysUnstorable looks up keys no store can hold: they are not found, and
// such an owner has no keys.
func keysUnstorable(t *testing.T, ctx context.Context, s storage.KeySource) {
	for _, key := range unstorable(t) {
		_, err := s.Key(ctx, key)
		mustErr(t, err, storage.ErrNotFound, fmt.Sprintf("Key(%q)", key))
		ks, err := s.Keys(ctx, key)
		must(t, err, fmt.Sprintf("Keys(%q)", key))
		if len(ks) != 0 {
			t.Fatalf("Keys(%q) = %v", key, ks)
		}
	}
}

func keysDeleteUnstorable(t *testing.T, ctx context.Context, s storage.KeyStore) {
	for _, key := range unstorable(t) {
		mustErr(t, s.DeleteKey(ctx, key), storage.ErrNotFound, fmt.Sprintf("DeleteKey(%q)", key))
	}
}

func ed25519PEM(t *testing.T) []byte {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	must(t, err, "generate key")
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	must(t, err, "marshal key")
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func rsaPEM(t *testing.T) []byte {
	t.Helper()
	priv, err := rsa.GenerateKey(rand.Reader, 1024) // small: the suite checks storage, not cryptography
	must(t, err, "generate key")
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(priv)})
}

func keysPutGet(t *testing.T, ctx context.Context, s storage.KeyStore) {
	for _, tt := range []struct {
		name string
		pem  func(*testing.T) []byte
	}{
		{"Ed25519 PKCS8", ed25519PEM},
		{"RSA PKCS1", rsaPEM},
	} {
		t.Run(tt.name, func(t *testing.T) {
			alice := iri(t, "alice")
			k := storage.Key{ID: alice + "#main-key", Owner: alice, PEM: tt.pem(t), Created: time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)}
			must(t, s.PutKey(ctx, k), "PutKey")
			got, err := s.Key(ctx, k.ID)
			must(t, err, "Key")
			if got.ID != k.ID || got.Owner != alice || !bytes.Equal(got.PEM, k.PEM) || !got.Created.Equal(k.Created) {
				t.Fatalf("Key = %+v, want %+v", got, k)
			}
			signer, err := got.PrivateKey()
			must(t, err, "PrivateKey")
			msg := []byte("hello")
			var opts crypto.SignerOpts = crypto.Hash(0)
			if _, ok := signer.(*rsa.PrivateKey); ok {
				sum := sha256.Sum256(msg)
				msg, opts = sum[:], crypto.SHA256
			}
			if _, err := signer.Sign(rand.Reader, msg, opts); err != nil {
				t.Fatalf("stored key does not sign: %v", err)
			}
		})
	}
}

func keysOrder(t *testing.T, ctx context.Context, s storage.KeyStore) {
	alice, bob := iri(t, "alice"), iri(t, "bob")
	p := ed25519PEM(t)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	created := map[string]time.Time{"k1": base, "k2": base.Add(time.Hour), "k3": base.Add(2 * time.Hour)}
	for _, id := range []string{"k2", "k1", "k3"} { // not in either order
		must(t, s.PutKey(ctx, storage.Key{ID: alice + "#" + id, Owner: alice, PEM: p, Created: created[id]}), "PutKey")
	}
	must(t, s.PutKey(ctx, storage.Key{ID: bob + "#k", Owner: bob, PEM: p}), "PutKey bob")
	before := time.Now()
	ks, err := s.Keys(ctx, alice)
	must(t, err, "Keys")
	var got []string
	for _, k := range ks {
		got = append(got, k.ID)
	}
	if want := []string{alice + "#k3", alice + "#k2", alice + "#k1"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("Keys = %v, want newest first %v", got, want)
	}
	bk, err := s.Key(ctx, bob+"#k")
	must(t, err, "Key")
	near(t, bk.Created, before, 5*time.Second, "Created of a key put without one")
}

func keysConflict(t *testing.T, ctx context.Context, s storage.KeyStore) {
	alice, mallory := iri(t, "alice"), iri(t, "mallory")
	k := storage.Key{ID: alice + "#main-key", Owner: alice, PEM: ed25519PEM(t)}
	must(t, s.PutKey(ctx, k), "PutKey")
	stolen := storage.Key{ID: k.ID, Owner: mallory, PEM: ed25519PEM(t)}
	mustErr(t, s.PutKey(ctx, stolen), storage.ErrConflict, "PutKey of alice's key id for mallory")
	got, err := s.Key(ctx, k.ID)
	must(t, err, "Key")
	if got.Owner != alice || !bytes.Equal(got.PEM, k.PEM) {
		t.Fatal("a conflicting PutKey changed the key")
	}
	rotated := storage.Key{ID: k.ID, Owner: alice, PEM: ed25519PEM(t)}
	must(t, s.PutKey(ctx, rotated), "PutKey replacing alice's key")
	got, err = s.Key(ctx, k.ID)
	must(t, err, "Key")
	if !bytes.Equal(got.PEM, rotated.PEM) {
		t.Fatal("PutKey did not replace the key")
	}
}

func keysDelete(t *testing.T, ctx context.Context, s storage.KeyStore) {
	alice := iri(t, "alice")
	k := storage.Key{ID: alice + "#main-key", Owner: alice, PEM: ed25519PEM(t)}
	must(t, s.PutKey(ctx, k), "PutKey")
	must(t, s.DeleteKey(ctx, k.ID), "DeleteKey")
	_, err := s.Key(ctx, k.ID)
	mustErr(t, err, storage.ErrNotFound, "Key after DeleteKey")
	mustErr(t, s.DeleteKey(ctx, k.ID), storage.ErrNotFound, "DeleteKey twice")
	ks, err := s.Keys(ctx, alice)
	must(t, err, "Keys")
	if len(ks) != 0 {
		t.Fatalf("Keys after DeleteKey = %v", ks)
	}
}

func keysInvalid(t *testing.T, ctx context.Context, s storage.KeyStore) {
	alice := iri(t, "alice")
	for _, tt := range []struct {
		name string
		k    storage.Key
	}{
		{"no id", storage.Key{Owner: alice, PEM: ed25519PEM(t)}},
		{"no owner", storage.Key{ID: alice + "#k", PEM: ed25519PEM(t)}},
		{"no PEM", storage.Key{ID: alice + "#k", Owner: alice}},
		{"signer only", storage.Key{ID: alice + "#k", Owner: alice, Signer: ed25519.NewKeyFromSeed(make([]byte, 32))}},
		{"garbage PEM", storage.Key{ID: alice + "#k", Owner: alice, PEM: []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")}},
		{"public key", storage.Key{ID: alice + "#k", Owner: alice, PEM: []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mustErr(t, s.PutKey(ctx, tt.k), storage.ErrInvalid, "PutKey")
		})
	}
}

func keysCancelled(t *testing.T, ctx context.Context, s storage.KeyStore) {
	alice := iri(t, "alice")
	k := storage.Key{ID: alice + "#main-key", Owner: alice, PEM: ed25519PEM(t)}
	c := cancelled()
	checkCancelled(t, "PutKey", s.PutKey(c, k))
	_, err := s.Key(ctx, k.ID)
	mustErr(t, err, storage.ErrNotFound, "Key after a cancelled PutKey")
	must(t, s.PutKey(ctx, k), "PutKey")
	_, err = s.Key(c, k.ID)
	checkCancelled(t, "Key", err)
	_, err = s.Keys(c, alice)
	checkCancelled(t, "Keys", err)
	checkCancelled(t, "DeleteKey", s.DeleteKey(c, k.ID))
	_, err = s.Key(ctx, k.ID)
	must(t, err, "Key after a cancelled DeleteKey")
}
