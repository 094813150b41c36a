package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	ap "github.com/go-ap/activitypub"

	"github.com/fedi-go/fedi/vocab"
	"github.com/fedi-go/fedi/vocab/communecter"
	"github.com/fedi-go/fedi/vocab/lemmy"
	"github.com/fedi-go/fedi/vocab/mobilizon"
)

func runDecode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	fs.SetOutput(stderr)
	roundtrip := fs.Bool("roundtrip", false, "print the re-encoded JSON instead of the summary")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: fedi decode [--roundtrip] FILE|-")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return 2
	}
	name := fs.Arg(0)
	reg, err := vocab.NewRegistry(mobilizon.Vocabulary, lemmy.Vocabulary, communecter.Vocabulary)
	if err != nil {
		fmt.Fprintf(stderr, "fedi: %v\n", err)
		return 1
	}
	var it vocab.Item
	if name == "-" {
		it, err = reg.DecodeReader(stdin)
	} else {
		var f *os.File
		f, err = os.Open(name)
		if err == nil {
			it, err = reg.DecodeReader(f)
			f.Close()
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "fedi: decode %s: %v\n", name, err)
		return 1
	}
	if *roundtrip {
		out, err := reg.Encode(it)
		if err != nil {
			fmt.Fprintf(stderr, "fedi: encode %s: %v\n", name, err)
			return 1
		}
		fmt.Fprintf(stdout, "%s\n", out)
		return 0
	}
	summarize(stdout, it)
	return 0
}

// summarize prints the typed summary of a decoded document: one block per
// object that is the document or carries extension properties.
func summarize(w io.Writer, it vocab.Item) {
	vocab.Walk(it, func(path string, it vocab.Item) bool {
		ext := vocab.ExtensionProperties(it)
		top := path == "$" || strings.HasPrefix(path, "$[") && !strings.Contains(path, ".")
		if !top && len(ext) == 0 {
			return true
		}
		var lines [][2]string
		line := func(k, v string) { lines = append(lines, [2]string{k, v}) }
		line("type", strings.Join(vocab.Types(it), ", "))
		if id := it.GetID(); id != "" {
			line("id", string(id))
		}
		if top {
			if a, ok := it.(*vocab.Activity); ok {
				line("actor", describe(a.Actor))
				line("object", describe(a.Object))
				if a.Target != nil {
					line("target", describe(a.Target))
				}
				if a.Instrument != nil {
					line("instrument", describe(a.Instrument))
				}
			}
			if aud := vocab.Audience(it); len(aud) > 0 {
				line("audience", joinIRIs(aud))
			}
		}
		for _, p := range ext {
			line(p.Name+" ("+p.Vocabulary+")", value(p.Value))
		}
		width := 0
		for _, l := range lines {
			width = max(width, len(l[0]))
		}
		fmt.Fprintf(w, "%s\n", path)
		for _, l := range lines {
			fmt.Fprintf(w, "  %-*s  %s\n", width, l[0], l[1])
		}
		return true
	})
	if problems := vocab.Problems(it); len(problems) > 0 {
		fmt.Fprintln(w, "problems")
		for _, p := range problems {
			fmt.Fprintf(w, "  %-8s %s\n", p.Severity, p)
		}
	}
}

func describe(it vocab.Item) string {
	switch v := it.(type) {
	case nil:
		return "(none)"
	case ap.IRI:
		return string(v)
	case ap.ItemCollection:
		parts := make([]string, len(v))
		for i, el := range v {
			parts[i] = describe(el)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	s := strings.Join(vocab.Types(it), ",")
	if id := it.GetID(); id != "" {
		s += " " + string(id)
	}
	if s == "" {
		s = "(embedded object)"
	}
	return s
}

func joinIRIs(iris []ap.IRI) string {
	s := make([]string, len(iris))
	for i, iri := range iris {
		s[i] = string(iri)
	}
	sort.Strings(s)
	return strings.Join(s, ", ")
}

// value formats an extension property's Go value.
func value(v any) string {
	switch x := v.(type) {
	case vocab.Item:
		return describe(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}
