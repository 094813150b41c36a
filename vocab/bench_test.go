package vocab_test

import (
	"os"
	"path/filepath"
	"testing"

	ap "github.com/go-ap/activitypub"
)

// The round-trip benchmarks decode and re-encode two real payloads with
// fedi and, as the baseline measured in the same run, with go-ap's own
// UnmarshalJSON and MarshalJSON (which lose every property they do not
// know). Compare them with benchstat:
//
//	go test -run '^$' -bench RoundTrip -benchmem -count 10 ./vocab | tee bench.txt
var benchPayloads = []struct{ name, file string }{
	{"MastodonCreateNote", "mastodon__lemmy-assets-historical__activities_create_private_message.json"},
	{"MobilizonCreateEvent", "mobilizon__mobilizon-fixtures__mobilizon-post-activity.json"},
}

func readPayload(tb testing.TB, name string) []byte {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "payloads", name))
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

func BenchmarkRoundTrip(b *testing.B) {
	reg := allVocabularies(b)
	for _, p := range benchPayloads {
		data := readPayload(b, p.file)
		b.Run(p.name+"/impl=fedi", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				it, err := reg.Decode(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := reg.Encode(it); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(p.name+"/impl=goap", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				it, err := ap.UnmarshalJSON(data)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := ap.MarshalJSON(it); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	reg := allVocabularies(b)
	for _, p := range benchPayloads {
		data := readPayload(b, p.file)
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				if _, err := reg.Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	reg := allVocabularies(b)
	for _, p := range benchPayloads {
		it, err := reg.Decode(readPayload(b, p.file))
		if err != nil {
			b.Fatal(err)
		}
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := reg.Encode(it); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
