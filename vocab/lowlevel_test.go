package vocab

import (
	"errors"
	"strings"
	"testing"
	"time"

	ap "github.com/go-ap/activitypub"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScanner(t *testing.T) {
	for _, tc := range []struct {
		in     string
		err    error
		offset int
		msg    string
	}{
		{in: `{}`},
		{in: ` [1, -2.5e+3, "a\u00e9\ud83d\ude00", true, false, null, {"k": []}] `},
		{in: ``, err: ErrSyntax, offset: 0, msg: "empty document"},
		{in: `{"a":1,}`, err: ErrSyntax, offset: 7, msg: "where a member name was expected"},
		{in: `{"a" 1}`, err: ErrSyntax, offset: 5, msg: "expected ':'"},
		{in: `[1 2]`, err: ErrSyntax, offset: 3, msg: "after an array element"},
		{in: `{"a":1} x`, err: ErrSyntax, offset: 8, msg: "after the top-level value"},
		{in: `"abc`, err: ErrSyntax, offset: 0, msg: "unterminated string"},
		{in: `"a\qb"`, err: ErrSyntax, offset: 2, msg: `invalid escape "\\q"`},
		{in: `"a\u12G4"`, err: ErrSyntax, offset: 2, msg: `invalid \u escape`},
		{in: "\"a\tb\"", err: ErrSyntax, offset: 2, msg: "control character"},
		{in: "\"a\xffb\"", err: ErrInvalidUTF8, offset: 2},
		{in: "\"\xe2\x82\"", err: ErrInvalidUTF8, offset: 1},
		{in: `01`, err: ErrSyntax, offset: 1, msg: "after the top-level value"},
		{in: `-`, err: ErrSyntax, offset: 1, msg: "invalid number"},
		{in: `1.`, err: ErrSyntax, offset: 2, msg: "decimal point"},
		{in: `1e`, err: ErrSyntax, offset: 2, msg: "exponent"},
		{in: `tru`, err: ErrSyntax, offset: 0, msg: "expected true"},
		{in: `nul`, err: ErrSyntax, offset: 0, msg: "expected null"},
		{in: `'a'`, err: ErrSyntax, offset: 0, msg: "where a value was expected"},
		{in: strings.Repeat("[", 65) + strings.Repeat("]", 65), err: ErrTooDeep, offset: 64},
		{in: strings.Repeat("[", 64) + strings.Repeat("]", 64)},
	} {
		var sc scanner
		err := sc.scan(tc.in, limits{depth: 64, values: 1 << 20, objects: 1 << 20})
		if tc.err == nil {
			assert.Nil(t, err, "%q", tc.in)
			continue
		}
		if assert.NotNil(t, err, "%q", tc.in) {
			assert.True(t, errors.Is(err.err, tc.err), "%q: %v", tc.in, err.err)
			assert.Equal(t, tc.offset, err.offset, "%q: %s", tc.in, err.msg)
			assert.Contains(t, err.msg, tc.msg, "%q", tc.in)
		}
	}
}

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`plain`:                "plain",
		`a\"b\\c\/d`:           `a"b\c/d`,
		`\b\f\n\r\t`:           "\b\f\n\r\t",
		`\u00e9\u4e2d`:         "é中",
		`\ud83d\ude00`:         "😀",
		`\ud83d`:               "\ufffd",
		`\ude00x`:              "\ufffdx",
		`\ud83d\u0041`:         "\ufffdA",
		`tail \u0000 included`: "tail \x00 included",
	} {
		assert.Equal(t, want, unescape(in), in)
	}
}

func TestLineCol(t *testing.T) {
	s := "ab\ncd\n\nef"
	for off, want := range map[int][2]int{0: {1, 1}, 2: {1, 3}, 3: {2, 1}, 7: {4, 1}, 8: {4, 2}, 100: {4, 3}} {
		l, c := lineCol(s, off)
		assert.Equal(t, want, [2]int{l, c}, "offset %d", off)
	}
}

func TestCheckIRI(t *testing.T) {
	for _, ok := range []string{
		"https://example.com/users/alice", "https://example.com/p?q=1&r=%C3%A9#frag", "as:Public", "Public",
		"tag:mastodon.example,2018-02-12:objectId=20:objectType=Conversation", "/relative/path", "_:b0",
		"https://例え.jp/ユーザー", "urn:uuid:6e8bc430-9c3a-11d9-9669-0800200c9a66", "mailto:a@b.example",
	} {
		assert.Empty(t, checkIRI(ok), ok)
	}
	for in, why := range map[string]string{
		"":                                 "empty",
		"https://x.example/\",\"evil\":\"": `contains '"'`,
		"https://x.example/a b":            "space",
		"https://x.example/\n":             "control",
		"https://x.example/<script>":       `'<'`,
		"https://{{DOMAIN}}/actor":         `'{'`,
		"https://x.example/%zz":            "percent-encoding",
		"https://x.example/%4":             "percent-encoding",
		"https://x.example/\u202eevil":     "bidirectional",
		"https://x.example/\u2028":         "line separator",
		"https://x.example/\u0085":         "control",
		"https://x.example/\xff":           "invalid UTF-8",
		"https://x.example/a\\b":           `'\\'`,
	} {
		assert.Contains(t, checkIRI(in), why, "%q", in)
	}
}

func TestIsPublic(t *testing.T) {
	for _, iri := range []string{"https://www.w3.org/ns/activitystreams#Public",
		"http://www.w3.org/ns/activitystreams#Public", "as:Public", "Public"} {
		assert.True(t, IsPublic(ap.IRI(iri)), iri)
	}
	for _, iri := range []string{"https://www.w3.org/ns/activitystreams", "public", "https://example.com/Public", ""} {
		assert.False(t, IsPublic(ap.IRI(iri)), iri)
	}
	assert.True(t, IsAbsoluteIRI("https://a"))
	assert.True(t, IsAbsoluteIRI("as:Public"))
	assert.False(t, IsAbsoluteIRI("/a:b"))
	assert.False(t, IsAbsoluteIRI("1http://a"))
	assert.False(t, IsAbsoluteIRI("images/sally.jpg"))
}

func TestParseTime(t *testing.T) {
	utc := func(y, mo, d, h, mi, s, ns int) time.Time {
		return time.Date(y, time.Month(mo), d, h, mi, s, ns, time.UTC)
	}
	for in, want := range map[string]time.Time{
		"2018-02-12T14:08:20Z":                utc(2018, 2, 12, 14, 8, 20, 0),
		"2018-02-12T14:08:20.1Z":              utc(2018, 2, 12, 14, 8, 20, 100000000),
		"2019-06-02T16:43:50.799554Z":         utc(2019, 6, 2, 16, 43, 50, 799554000),
		"2021-01-01T00:00:00.123456789Z":      utc(2021, 1, 1, 0, 0, 0, 123456789),
		"2021-01-01T00:00:00.1234567891234Z":  utc(2021, 1, 1, 0, 0, 0, 123456789),
		"2022-12-11T19:00:00+00:00":           utc(2022, 12, 11, 19, 0, 0, 0),
		"2024-07-02T11:47:35+0000":            utc(2024, 7, 2, 11, 47, 35, 0),
		"2024-07-02T13:47:35+0200":            utc(2024, 7, 2, 11, 47, 35, 0),
		"2024-07-02T08:17:35.5-03:30":         utc(2024, 7, 2, 11, 47, 35, 500000000),
		"2024-07-02T11:47Z":                   utc(2024, 7, 2, 11, 47, 0, 0),
		"2024-07-02 11:47:35":                 utc(2024, 7, 2, 11, 47, 35, 0),
		"2019-09-19T00:32:36.785333":          utc(2019, 9, 19, 0, 32, 36, 785333000),
		"2024-02-29T00:00:00Z":                utc(2024, 2, 29, 0, 0, 0, 0),
		"0001-01-01T00:00:00Z":                {},
		"2024-07-02T11:47:35.0000000000+0100": utc(2024, 7, 2, 10, 47, 35, 0),
	} {
		got, _, ok := parseTime(in)
		if assert.True(t, ok, in) {
			assert.True(t, want.Equal(got), "%s: got %v, want %v", in, got, want)
		}
	}
	_, zoned, _ := parseTime("2019-09-19T00:32:36")
	assert.False(t, zoned)
	_, zoned, _ = parseTime("2019-09-19T00:32:36Z")
	assert.True(t, zoned)
	for _, bad := range []string{"", "yesterday", "2024-13-01T00:00:00Z", "2023-02-29T00:00:00Z",
		"2024-07-02T25:00:00Z", "2024-07-02T11:60:00Z", "2024-07-02T11:47:35+2500", "2024-07-02T11:47:35ZZ",
		"2024-07-02T11:47:35.Z", "2024-07-02T11:47:35+01:0", "2024-07-02", "20240702T114735Z"} {
		_, _, ok := parseTime(bad)
		assert.False(t, ok, bad)
	}
	assert.Equal(t, `2024-07-02T11:47:35.5Z`, string(appendTime(nil, utc(2024, 7, 2, 11, 47, 35, 500000000))))
	assert.Equal(t, `2024-07-02T09:47:35Z`, string(appendTime(nil, time.Date(2024, 7, 2, 11, 47, 35, 0, time.FixedZone("", 7200)))))
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"PT3M33S": 3*time.Minute + 33*time.Second, "PT1H": time.Hour, "P1DT2H": 26 * time.Hour,
		"PT0.5S": 500 * time.Millisecond, "-PT1M": -time.Minute, "P1W": 7 * 24 * time.Hour,
	} {
		got, ok := parseDuration(in)
		assert.True(t, ok, in)
		assert.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "P", "PT", "3M", "PT3X", "P1H", "PTT1H", "PT1.2.3S"} {
		_, ok := parseDuration(bad)
		assert.False(t, ok, bad)
	}
	for _, d := range []time.Duration{time.Second, 213 * time.Second, 2*time.Hour + 30*time.Minute, 1500 * time.Millisecond, 0} {
		b := appendDuration(nil, d)
		got, ok := parseDuration(string(b[1 : len(b)-1]))
		require.True(t, ok, string(b))
		assert.Equal(t, d, got, string(b))
	}
}

func TestValidLanguageTag(t *testing.T) {
	for _, ok := range []string{"en", "es", "pt-BR", "zh-Hant-TW", "sr-Latn-RS", "de-CH-1901", "en-US-x-twain",
		"x-whatever", "und", "i-klingon", "EN-gb", "zh-yue-HK", "sl-rozaj-biske", "en-a-bbb-x-a-ccc", "es-419",
		"hy-Latn-IT-arevela", "cel-gaulish"} {
		assert.True(t, validLanguageTag(ok), ok)
	}
	for _, bad := range []string{"", "de-419-DE", "a", "en-", "-en", "en--us", "toolongtag", "en-US-x",
		"en-a", "1234", "en_US", "en-a-x-bad", "é"} {
		assert.False(t, validLanguageTag(bad), bad)
	}
}
