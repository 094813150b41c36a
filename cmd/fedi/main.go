// Command fedi inspects ActivityPub documents and servers with the fedi
// library.
//
//	fedi decode [--roundtrip] FILE|-
//	fedi webfinger [-allow-loopback] HANDLE
//	fedi lookup [-signed -key FILE -key-id IRI] [-allow-loopback] [-json] HANDLE|IRI
//	fedi serve [flags]
//	fedi federation-md [-o FILE]
//
// decode reads one ActivityStreams document with the Mobilizon, Lemmy and
// Communecter vocabularies registered and prints a typed summary: the type
// and id, the actor and object, every extension property by name, and the
// problems the decoder found. With --roundtrip it prints the re-encoded
// JSON instead. It exits with status 1 and a message that says what and
// where when the document is not valid.
//
// webfinger prints the WebFinger JRD of a handle; lookup resolves a handle
// (or takes an IRI), fetches the actor or object through the SSRF-safe
// client, optionally with a signed GET, and prints it decoded. Both reach
// loopback hosts (over http) only with -allow-loopback, and say which step
// failed: DNS, a refused address, a non-JSON answer, an id mismatch, a
// document too large.
//
// serve runs the reference server (see examples/server); federation-md
// writes its FEDERATION.md.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
)

const usage = `usage: fedi <command> [arguments]

commands:
  decode [--roundtrip] FILE|-   decode a document and print a typed summary
                                (or, with --roundtrip, the re-encoded JSON)
  webfinger HANDLE              print the WebFinger JRD of @user@host
  lookup HANDLE|IRI             fetch an actor or object and print it decoded
                                (-signed for authorized fetch)
  serve [flags]                 run the reference server (go run ./examples/server)
  federation-md [-o FILE]       write the reference server's FEDERATION.md

Run "fedi <command> -h" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run dispatches a command line; it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "decode":
		return runDecode(args[1:], stdin, stdout, stderr)
	case "webfinger":
		return runWebfinger(ctx, args[1:], stdout, stderr)
	case "lookup":
		return runLookup(ctx, args[1:], stdout, stderr)
	case "serve":
		return runServe(args[1:], stdout, stderr)
	case "federation-md":
		return runFederationMD(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "fedi: unknown command %q\n\n%s", args[0], usage)
	return 2
}
