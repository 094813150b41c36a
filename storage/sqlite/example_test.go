package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/fedi-go/fedi/storage"
	"github.com/fedi-go/fedi/storage/sqlite"
)

// The reference server keeps its state in one file in its data directory.
func ExampleOpen() {
	dataDir, err := os.MkdirTemp("", "fedi-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dataDir)

	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dataDir, "fedi.db"), sqlite.Options{Logger: quiet})
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	st := db.Store()

	first, err := st.Dedupe.Record(ctx, "https://remote.example/activities/1", "https://example.com/users/alice")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(first)
	_, isKeyStore := st.Keys.(storage.KeyStore)
	fmt.Println(isKeyStore)
	// Output:
	// true
	// true
}
