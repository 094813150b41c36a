package main

import (
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/fedi-go/fedi/examples/server/refserver"
)

// runServe runs the reference server, as go run ./examples/server does.
func runServe(args []string, stdout, stderr io.Writer) int {
	return refserver.Main("fedi serve", args, stdout, stderr)
}

// runFederationMD writes the reference server's FEDERATION.md.
func runFederationMD(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("fedi federation-md", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "write to this file instead of the standard output")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: fedi federation-md [-o FILE]\n\nWrites the FEDERATION.md of the reference server: its philosophy, the activities\nit sends and receives, its inbox's behaviour per activity and the extension\nproperties of its vocabularies, from its own registrations.\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return 0
		}
		return 2
	}
	var b bytes.Buffer
	if err := refserver.WriteDocument(&b); err != nil {
		fmt.Fprintf(stderr, "fedi federation-md: %v\n", err)
		return 1
	}
	if *out == "" {
		_, _ = stdout.Write(b.Bytes())
		return 0
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		fmt.Fprintf(stderr, "fedi federation-md: %v\n", err)
		return 1
	}
	return 0
}
