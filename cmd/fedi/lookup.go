package main

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/fedi-go/fedi/fetch"
	"github.com/fedi-go/fedi/signature"
	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/communecter"
	"github.com/fedi-go/fedi/vocab/lemmy"
	"github.com/fedi-go/fedi/vocab/mobilizon"
	"github.com/fedi-go/fedi/webfinger"
)

// lookupResolver, when set (by tests), replaces DNS for webfinger and
// lookup, so that no test sends a query off the machine.
var lookupResolver fetch.Resolver

const webfingerUsage = `usage: fedi webfinger [-allow-loopback] HANDLE

Fetches and prints the WebFinger JRD of HANDLE (@user@host, user@host or
acct:user@host) over https, or http to a loopback host with -allow-loopback.
`

const lookupUsage = `usage: fedi lookup [-signed -key FILE -key-id IRI] [-allow-loopback] [-json] HANDLE|IRI

Resolves HANDLE through WebFinger (or takes the IRI), fetches the actor or
object through the SSRF-safe client and prints it as decoded by the vocab
registry: a summary, or the re-encoded JSON with -json. -signed signs the
GET (authorized fetch) with the private key in FILE (PEM: PKCS#8, PKCS#1 or
EC), naming it -key-id; FEDI_KEY_FILE and FEDI_KEY_ID are the defaults.
`

// runWebfinger is "fedi webfinger".
func runWebfinger(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("webfinger", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, webfingerUsage) }
	allowLoopback := fs.Bool("allow-loopback", false, "reach loopback hosts, over http")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(rest) != 1 {
		fs.Usage()
		return 2
	}
	client, err := newFetchClient(*allowLoopback, nil)
	if err != nil {
		fmt.Fprintf(stderr, "fedi webfinger: %v\n", err)
		return 1
	}
	defer client.Close()
	wf, _ := webfinger.NewClient(client)
	jrd, err := wf.Lookup(ctx, rest[0])
	if err != nil {
		fmt.Fprintf(stderr, "fedi webfinger: %s\n", explain(err, *allowLoopback))
		return 1
	}
	out, _ := json.MarshalIndent(jrd, "", "  ")
	fmt.Fprintf(stdout, "%s\n", out)
	return 0
}

// runLookup is "fedi lookup".
func runLookup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lookup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, lookupUsage) }
	allowLoopback := fs.Bool("allow-loopback", false, "reach loopback hosts, over http")
	signed := fs.Bool("signed", false, "sign the GET (authorized fetch)")
	keyFile := fs.String("key", os.Getenv("FEDI_KEY_FILE"), "PEM private key for -signed")
	keyID := fs.String("key-id", os.Getenv("FEDI_KEY_ID"), "key id for -signed")
	asJSON := fs.Bool("json", false, "print the re-encoded JSON instead of a summary")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return 2
	}
	if len(rest) != 1 {
		fs.Usage()
		return 2
	}
	var signer fetch.RequestSigner
	if *signed {
		if *keyFile == "" || *keyID == "" {
			fmt.Fprintln(stderr, "fedi lookup: -signed needs -key FILE and -key-id IRI (or FEDI_KEY_FILE and FEDI_KEY_ID)")
			return 2
		}
		s, err := loadSigner(*keyFile, *keyID)
		if err != nil {
			fmt.Fprintf(stderr, "fedi lookup: %v\n", err)
			return 1
		}
		signer = s
	}
	client, err := newFetchClient(*allowLoopback, signer)
	if err != nil {
		fmt.Fprintf(stderr, "fedi lookup: %v\n", err)
		return 1
	}
	defer client.Close()

	target := rest[0]
	if !strings.HasPrefix(target, "https://") && !strings.HasPrefix(target, "http://") {
		wf, _ := webfinger.NewClient(client)
		iri, err := wf.Resolve(ctx, target)
		if err != nil {
			fmt.Fprintf(stderr, "fedi lookup: %s\n", explain(err, *allowLoopback))
			return 1
		}
		target = iri
	}
	doc, err := client.Get(ctx, target)
	if err != nil {
		fmt.Fprintf(stderr, "fedi lookup: %s\n", explain(err, *allowLoopback))
		return 1
	}
	reg, err := vocab.NewRegistry(mobilizon.Vocabulary, lemmy.Vocabulary, communecter.Vocabulary)
	if err != nil {
		fmt.Fprintf(stderr, "fedi lookup: %v\n", err)
		return 1
	}
	it, err := reg.Decode(doc.Body)
	if err != nil {
		fmt.Fprintf(stderr, "fedi lookup: %s is not a valid ActivityStreams document: %v\n", doc.URL, err)
		return 1
	}
	if *asJSON {
		out, err := reg.Encode(it)
		if err != nil {
			fmt.Fprintf(stderr, "fedi lookup: %v\n", err)
			return 1
		}
		var buf bytes.Buffer
		if json.Indent(&buf, out, "", "  ") != nil {
			buf.Reset()
			buf.Write(out)
		}
		fmt.Fprintf(stdout, "%s\n", buf.Bytes())
		return 0
	}
	printItem(stdout, it)
	return 0
}

// printItem prints the fields of an actor (or any object) that one looks
// up an actor for.
func printItem(w io.Writer, it vocab.Item) {
	var lines [][2]string
	add := func(k, v string) {
		if v != "" {
			lines = append(lines, [2]string{k, v})
		}
	}
	add("type", strings.Join(vocab.Types(it), ", "))
	add("id", string(it.GetID()))
	if a, ok := it.(*vocab.Actor); ok {
		add("preferredUsername", a.PreferredUsername.String())
		add("name", a.Name.String())
		add("inbox", iri(a.Inbox))
		add("outbox", iri(a.Outbox))
		add("followers", iri(a.Followers))
		add("following", iri(a.Following))
		if a.Endpoints != nil {
			add("sharedInbox", iri(a.Endpoints.SharedInbox))
		}
		add("publicKey", string(a.PublicKey.ID))
		add("publicKey owner", string(a.PublicKey.Owner))
		if pk := a.PublicKey.PublicKeyPem; pk != "" {
			if pub, err := signature.ParsePublicKeyPEM(pk); err == nil {
				add("publicKey type", fmt.Sprintf("%T", pub))
			} else {
				add("publicKey type", "unusable: "+err.Error())
			}
		}
	}
	if o, ok := it.(*vocab.Object); ok {
		add("name", o.Name.String())
		add("attributedTo", iri(o.AttributedTo))
		add("owner", string(o.Owner))
	}
	width := 0
	for _, l := range lines {
		width = max(width, len(l[0]))
	}
	for _, l := range lines {
		fmt.Fprintf(w, "%-*s  %s\n", width, l[0], l[1])
	}
}

func iri(it vocab.Item) string {
	if it == nil {
		return ""
	}
	return string(it.GetLink())
}

func newFetchClient(allowLoopback bool, signer fetch.RequestSigner) (*fetch.Client, error) {
	return fetch.New(fetch.Options{AllowLoopback: allowLoopback, Signer: signer, Resolver: lookupResolver})
}

// loadSigner reads a PEM private key for signed GETs.
func loadSigner(file, keyID string) (*signature.Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%s: no PEM block", file)
	}
	var key any
	switch block.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("%s: unsupported PEM block %q", file, block.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	cs, ok := key.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("%s: not a signing key", file)
	}
	return signature.NewSigner(signature.SignerOptions{KeyID: keyID, Key: cs})
}

// explain turns a fetch or WebFinger error into one line that says what
// kind of failure it was.
func explain(err error, allowLoopback bool) string {
	var status *fetch.StatusError
	var refused *fetch.RefusedError
	switch {
	case errors.Is(err, webfinger.ErrBadResource):
		return "not a handle or IRI: " + err.Error()
	case errors.Is(err, fetch.ErrDNS):
		return "DNS lookup failed: " + err.Error()
	case errors.As(err, &refused):
		msg := "refused to connect: " + err.Error()
		if refused.Reason == "loopback" && !allowLoopback {
			msg += " (use -allow-loopback to reach a local peer)"
		}
		return msg
	case errors.Is(err, fetch.ErrScheme):
		msg := "scheme refused: " + err.Error()
		if !allowLoopback {
			msg += " (use -allow-loopback for http on loopback)"
		}
		return msg
	case errors.Is(err, fetch.ErrTimeout):
		return "timed out: " + err.Error()
	case errors.Is(err, fetch.ErrContentType), errors.Is(err, fetch.ErrNotJSON), errors.Is(err, webfinger.ErrBadJRD):
		return "not JSON: " + err.Error()
	case errors.Is(err, fetch.ErrIDMismatch):
		return "id mismatch: " + err.Error()
	case errors.Is(err, fetch.ErrTooLarge):
		return "too large: " + err.Error()
	case errors.As(err, &status):
		return fmt.Sprintf("HTTP %d: %s", status.Code, err.Error())
	case errors.Is(err, webfinger.ErrNoActor):
		return "no actor: " + err.Error()
	case errors.Is(err, fetch.ErrRedirectLoop), errors.Is(err, fetch.ErrTooManyRedirects), errors.Is(err, fetch.ErrInsecureRedirect):
		return "bad redirect: " + err.Error()
	}
	return err.Error()
}

// parseInterspersed parses flags that may come before or after the
// positional arguments ("fedi lookup HANDLE --signed").
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}
