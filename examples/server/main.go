// Command server is fedi's reference server: a federating ActivityPub
// server with the Mobilizon, Lemmy, Communecter and Gathio behaviours, on
// SQLite in ./data by default. Run it with
//
//	go run ./examples/server
//
// and open http://localhost:8080/. See README.md beside this file for its
// flags and its control API.
package main

import (
	"os"

	"github.com/fedi-go/fedi/examples/server/refserver"
)

func main() {
	os.Exit(refserver.Main("server", os.Args[1:], os.Stdout, os.Stderr))
}
