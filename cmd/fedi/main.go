// Command fedi inspects ActivityPub documents with the fedi library.
//
//	fedi decode [--roundtrip] FILE|-
//
// decode reads one ActivityStreams document with the Mobilizon, Lemmy and
// Communecter vocabularies registered and prints a typed summary: the type
// and id, the actor and object, every extension property by name, and the
// problems the decoder found. With --roundtrip it prints the re-encoded
// JSON instead. It exits with status 1 and a message that says what and
// where when the document is not valid.
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
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "fedi: unknown command %q\n\n%s", args[0], usage)
	return 2
}
