package signature

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file parses and serializes the parts of RFC 8941 structured field
// values that RFC 9421 needs: the dictionaries of Signature-Input and
// Signature, whose members are inner lists of strings or byte sequences,
// with parameters. Decimals are refused: no signature parameter uses them,
// and refusing them means serialization never has to round.

type sfKind uint8

const (
	sfInteger sfKind = iota + 1
	sfString
	sfToken
	sfBytes
	sfBool
)

// sfItem is a bare item with its parameters.
type sfItem struct {
	kind   sfKind
	num    int64
	str    string // string and token
	bytes  []byte
	bool   bool
	params []sfParam
}

type sfParam struct {
	key string
	val sfItem // without parameters of its own
}

// sfMember is a dictionary member: an item, or an inner list with
// parameters.
type sfMember struct {
	key    string
	isList bool
	item   sfItem   // when !isList
	list   []sfItem // when isList
	params []sfParam
}

type sfParser struct {
	s string
	i int
}

var errSF = errors.New("invalid structured field")

func (p *sfParser) errorf(format string, args ...any) error {
	return fmt.Errorf("%w at offset %d: %s", errSF, p.i, fmt.Sprintf(format, args...))
}

func (p *sfParser) eof() bool { return p.i >= len(p.s) }
func (p *sfParser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.s[p.i]
}
func (p *sfParser) skipSP() {
	for !p.eof() && p.s[p.i] == ' ' {
		p.i++
	}
}
func (p *sfParser) skipOWS() {
	for !p.eof() && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// parseDictionary parses a dictionary (RFC 8941 §4.2.2). A key given
// twice keeps its last value, in the position of the first. It refuses
// more than MaxSignatures members (counting repeats), inner lists of more
// than MaxCoveredComponents items and more than MaxSignatureParams
// parameters on one item or member, so that each repeat check scans a
// small set and the whole parse is linear.
func parseDictionary(s string) ([]sfMember, error) {
	p := &sfParser{s: s}
	p.skipSP()
	var out []sfMember
	for n := 0; !p.eof(); n++ {
		if n == MaxSignatures {
			return nil, p.errorf("more than MaxSignatures (%d) members", MaxSignatures)
		}
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		m := sfMember{key: key}
		if p.peek() == '=' {
			p.i++
			if p.peek() == '(' {
				m.isList = true
				if m.list, err = p.innerList(); err != nil {
					return nil, err
				}
			} else if m.item, err = p.bareItem(); err != nil {
				return nil, err
			}
		} else {
			m.item = sfItem{kind: sfBool, bool: true}
		}
		if m.params, err = p.parameters(); err != nil {
			return nil, err
		}
		replaced := false
		for i := range out {
			if out[i].key == key {
				out[i] = m
				replaced = true
			}
		}
		if !replaced {
			out = append(out, m)
		}
		p.skipOWS()
		if p.eof() {
			return out, nil
		}
		if p.s[p.i] != ',' {
			return nil, p.errorf("expected ','")
		}
		p.i++
		p.skipOWS()
		if p.eof() {
			return nil, p.errorf("trailing ','")
		}
	}
	if len(out) == 0 {
		return nil, p.errorf("empty dictionary")
	}
	return out, nil
}

func (p *sfParser) key() (string, error) {
	start := p.i
	c := p.peek()
	if !(c >= 'a' && c <= 'z') && c != '*' {
		return "", p.errorf("key must start with a lowercase letter or '*'")
	}
	for !p.eof() {
		c := p.s[p.i]
		if (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' || c == '*' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i], nil
}

func (p *sfParser) innerList() ([]sfItem, error) {
	p.i++ // '('
	// Items are gathered on the stack and copied out once, at their
	// size: one allocation per list, none of it spare.
	var buf [MaxCoveredComponents]sfItem
	items := buf[:0]
	for {
		p.skipSP()
		if p.eof() {
			return nil, p.errorf("unterminated inner list")
		}
		if p.s[p.i] == ')' {
			p.i++
			if len(items) == 0 {
				return nil, nil
			}
			return append([]sfItem(nil), items...), nil
		}
		if len(items) == MaxCoveredComponents {
			return nil, p.errorf("more than MaxCoveredComponents (%d) items in an inner list", MaxCoveredComponents)
		}
		it, err := p.bareItem()
		if err != nil {
			return nil, err
		}
		if it.params, err = p.parameters(); err != nil {
			return nil, err
		}
		items = append(items, it)
		if c := p.peek(); c != ' ' && c != ')' {
			return nil, p.errorf("expected ' ' or ')' in inner list")
		}
	}
}

func (p *sfParser) parameters() ([]sfParam, error) {
	if p.peek() != ';' {
		return nil, nil
	}
	// As in innerList: gathered on the stack, copied out at their size.
	var buf [MaxSignatureParams]sfParam
	ps := buf[:0]
	for n := 0; p.peek() == ';'; n++ {
		if n == MaxSignatureParams {
			return nil, p.errorf("more than MaxSignatureParams (%d) parameters", MaxSignatureParams)
		}
		p.i++
		p.skipSP()
		key, err := p.key()
		if err != nil {
			return nil, err
		}
		val := sfItem{kind: sfBool, bool: true}
		if p.peek() == '=' {
			p.i++
			if val, err = p.bareItem(); err != nil {
				return nil, err
			}
		}
		replaced := false
		for i := range ps {
			if ps[i].key == key {
				ps[i].val = val
				replaced = true
			}
		}
		if !replaced {
			ps = append(ps, sfParam{key: key, val: val})
		}
	}
	return append([]sfParam(nil), ps...), nil
}

func (p *sfParser) bareItem() (sfItem, error) {
	switch c := p.peek(); {
	case c == '-' || (c >= '0' && c <= '9'):
		return p.integer()
	case c == '"':
		return p.str()
	case c == ':':
		return p.byteSeq()
	case c == '?':
		p.i++
		switch p.peek() {
		case '0', '1':
			b := p.s[p.i] == '1'
			p.i++
			return sfItem{kind: sfBool, bool: b}, nil
		}
		return sfItem{}, p.errorf("invalid boolean")
	case (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '*':
		start := p.i
		p.i++
		for !p.eof() && isTokenChar(p.s[p.i]) {
			p.i++
		}
		return sfItem{kind: sfToken, str: p.s[start:p.i]}, nil
	case c == 0:
		return sfItem{}, p.errorf("missing value")
	default:
		return sfItem{}, p.errorf("unexpected %q", c)
	}
}

func isTokenChar(c byte) bool {
	if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~:/", c) >= 0
}

func (p *sfParser) integer() (sfItem, error) {
	start := p.i
	if p.peek() == '-' {
		p.i++
	}
	digits := p.i
	for !p.eof() && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	if p.i == digits {
		return sfItem{}, p.errorf("invalid integer")
	}
	if p.peek() == '.' {
		return sfItem{}, p.errorf("decimals are not supported")
	}
	if p.i-digits > 15 {
		return sfItem{}, p.errorf("integer too long")
	}
	n, err := strconv.ParseInt(p.s[start:p.i], 10, 64)
	if err != nil {
		return sfItem{}, p.errorf("invalid integer")
	}
	return sfItem{kind: sfInteger, num: n}, nil
}

func (p *sfParser) str() (sfItem, error) {
	p.i++ // '"'
	start, escaped := p.i, false
	for !p.eof() {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '\\':
			if p.eof() {
				return sfItem{}, p.errorf("unterminated escape")
			}
			if c = p.s[p.i]; c != '"' && c != '\\' {
				return sfItem{}, p.errorf("invalid escape")
			}
			p.i++
			escaped = true
		case c == '"':
			v := p.s[start : p.i-1]
			if escaped {
				var b strings.Builder
				for j := 0; j < len(v); j++ {
					if v[j] == '\\' {
						j++
					}
					b.WriteByte(v[j])
				}
				v = b.String()
			}
			return sfItem{kind: sfString, str: v}, nil
		case c < 0x20 || c > 0x7e:
			return sfItem{}, p.errorf("invalid character in string")
		}
	}
	return sfItem{}, p.errorf("unterminated string")
}

func (p *sfParser) byteSeq() (sfItem, error) {
	p.i++ // ':'
	end := strings.IndexByte(p.s[p.i:], ':')
	if end < 0 {
		return sfItem{}, p.errorf("unterminated byte sequence")
	}
	enc := p.s[p.i : p.i+end]
	p.i += end + 1
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return sfItem{}, p.errorf("invalid base64 in byte sequence")
	}
	return sfItem{kind: sfBytes, bytes: b}, nil
}

// appendInnerList appends an inner list with its parameters, as the
// @signature-params line of a signature base needs it (RFC 8941 §4.1.1.1).
func appendInnerList(b []byte, items []sfItem, params []sfParam) []byte {
	b = append(b, '(')
	for i, it := range items {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendBare(b, it)
		b = appendParams(b, it.params)
	}
	b = append(b, ')')
	return appendParams(b, params)
}

func appendParams(b []byte, ps []sfParam) []byte {
	for _, p := range ps {
		b = append(b, ';')
		b = append(b, p.key...)
		if p.val.kind == sfBool && p.val.bool {
			continue
		}
		b = append(b, '=')
		b = appendBare(b, p.val)
	}
	return b
}

func appendBare(b []byte, it sfItem) []byte {
	switch it.kind {
	case sfInteger:
		b = strconv.AppendInt(b, it.num, 10)
	case sfString:
		b = append(b, '"')
		for i := 0; i < len(it.str); i++ {
			if c := it.str[i]; c == '"' || c == '\\' {
				b = append(b, '\\')
			}
			b = append(b, it.str[i])
		}
		b = append(b, '"')
	case sfToken:
		b = append(b, it.str...)
	case sfBytes:
		b = append(b, ':')
		b = base64.StdEncoding.AppendEncode(b, it.bytes)
		b = append(b, ':')
	case sfBool:
		if it.bool {
			b = append(b, "?1"...)
		} else {
			b = append(b, "?0"...)
		}
	}
	return b
}
