package vocab

import (
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// The scanner turns a JSON document into a flat tree of nodes that index
// into the source text. Nothing is copied while scanning: a string without
// escapes is later taken as a substring of the one immutable copy of the
// input, which is what keeps decoding cheap in allocations. The node slice
// is reused across documents through the registry's pool.

type nodeKind uint8

const (
	kindNull nodeKind = iota + 1
	kindFalse
	kindTrue
	kindNumber
	kindString
	kindObject
	kindArray
)

func (k nodeKind) String() string {
	switch k {
	case kindNull:
		return "null"
	case kindFalse, kindTrue:
		return "boolean"
	case kindNumber:
		return "number"
	case kindString:
		return "string"
	case kindObject:
		return "object"
	case kindArray:
		return "array"
	}
	return "nothing"
}

// article names the kind with its article, for messages.
func (k nodeKind) article() string {
	switch k {
	case kindNull:
		return "null"
	case kindArray:
		return "an array"
	case kindObject:
		return "an object"
	}
	return "a " + k.String()
}

// node is one JSON value. Offsets are byte offsets into the source.
type node struct {
	kind nodeKind
	esc  bool // the string value contains escapes
	kesc bool // the member key contains escapes
	// start and end delimit the value. For strings they exclude the quotes;
	// for containers they include the brackets.
	start, end int32
	// kstart and kend delimit the member key (without quotes) when the node
	// is the value of an object member.
	kstart, kend int32
	child        int32 // first child, 0 when there is none
	next         int32 // next sibling, 0 when there is none
	count        int32 // number of children
}

// scanError is a positioned scanning failure; the decoder turns it into a
// *DecodeError.
type scanError struct {
	err    error
	offset int
	msg    string
}

type scanner struct {
	s          string
	pos        int
	nodes      []node
	maxDepth   int
	maxValues  int // bound on len(nodes)
	maxObjects int
	objects    int
	err        *scanError
}

// limits bounds what one document may hold besides its size: decoding
// turns every object into a wrapper of about a kilobyte, so a document of
// many tiny objects would otherwise keep far more memory than its size.
type limits struct {
	depth, values, objects int
}

// scan parses s completely. The root node is nodes[0].
func (sc *scanner) scan(s string, lim limits) *scanError {
	sc.s = s
	sc.pos = 0
	sc.nodes = sc.nodes[:0]
	sc.maxDepth = lim.depth
	sc.maxValues = lim.values
	sc.maxObjects = lim.objects
	sc.objects = 0
	sc.err = nil
	sc.skipSpace()
	if sc.pos >= len(s) {
		return &scanError{err: ErrSyntax, offset: sc.pos, msg: "empty document"}
	}
	sc.value(0)
	if sc.err != nil {
		return sc.err
	}
	sc.skipSpace()
	if sc.pos < len(s) {
		return &scanError{err: ErrSyntax, offset: sc.pos, msg: "unexpected " + quoteByte(s[sc.pos]) + " after the top-level value"}
	}
	return nil
}

func (sc *scanner) fail(err error, off int, msg string) int32 {
	if sc.err == nil {
		sc.err = &scanError{err: err, offset: off, msg: msg}
	}
	return 0
}

func (sc *scanner) skipSpace() {
	for sc.pos < len(sc.s) {
		switch sc.s[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

// value scans one value at sc.pos and returns its node index.
func (sc *scanner) value(depth int) int32 {
	if sc.pos >= len(sc.s) {
		return sc.fail(ErrSyntax, sc.pos, "unexpected end of input")
	}
	idx := int32(len(sc.nodes))
	if len(sc.nodes) >= sc.maxValues {
		return sc.fail(ErrTooLarge, sc.pos, "more than "+strconv.Itoa(sc.maxValues)+" values")
	}
	sc.nodes = append(sc.nodes, node{start: int32(sc.pos)})
	switch c := sc.s[sc.pos]; {
	case c == '{':
		if depth >= sc.maxDepth {
			return sc.fail(ErrTooDeep, sc.pos, "more than "+strconv.Itoa(sc.maxDepth)+" levels of nesting")
		}
		if sc.objects++; sc.objects > sc.maxObjects {
			return sc.fail(ErrTooLarge, sc.pos, "more than "+strconv.Itoa(sc.maxObjects)+" objects")
		}
		sc.object(idx, depth+1)
	case c == '[':
		if depth >= sc.maxDepth {
			return sc.fail(ErrTooDeep, sc.pos, "more than "+strconv.Itoa(sc.maxDepth)+" levels of nesting")
		}
		sc.array(idx, depth+1)
	case c == '"':
		start, end, esc, ok := sc.str()
		if !ok {
			return 0
		}
		n := &sc.nodes[idx]
		n.kind, n.start, n.end, n.esc = kindString, start, end, esc
	case c == '-' || (c >= '0' && c <= '9'):
		sc.number(idx)
	case c == 't':
		sc.literal(idx, "true", kindTrue)
	case c == 'f':
		sc.literal(idx, "false", kindFalse)
	case c == 'n':
		sc.literal(idx, "null", kindNull)
	default:
		return sc.fail(ErrSyntax, sc.pos, "unexpected "+quoteByte(c)+" where a value was expected")
	}
	return idx
}

func (sc *scanner) literal(idx int32, lit string, k nodeKind) {
	if len(sc.s)-sc.pos < len(lit) || sc.s[sc.pos:sc.pos+len(lit)] != lit {
		sc.fail(ErrSyntax, sc.pos, "invalid literal, expected "+lit)
		return
	}
	sc.pos += len(lit)
	n := &sc.nodes[idx]
	n.kind, n.end = k, int32(sc.pos)
}

func (sc *scanner) number(idx int32) {
	s, p := sc.s, sc.pos
	start := p
	if s[p] == '-' {
		p++
	}
	switch {
	case p < len(s) && s[p] == '0':
		p++
	case p < len(s) && s[p] >= '1' && s[p] <= '9':
		for p < len(s) && s[p] >= '0' && s[p] <= '9' {
			p++
		}
	default:
		sc.fail(ErrSyntax, p, "invalid number")
		return
	}
	if p < len(s) && s[p] == '.' {
		p++
		if p >= len(s) || s[p] < '0' || s[p] > '9' {
			sc.fail(ErrSyntax, p, "invalid number: a digit must follow the decimal point")
			return
		}
		for p < len(s) && s[p] >= '0' && s[p] <= '9' {
			p++
		}
	}
	if p < len(s) && (s[p] == 'e' || s[p] == 'E') {
		p++
		if p < len(s) && (s[p] == '+' || s[p] == '-') {
			p++
		}
		if p >= len(s) || s[p] < '0' || s[p] > '9' {
			sc.fail(ErrSyntax, p, "invalid number: a digit must follow the exponent")
			return
		}
		for p < len(s) && s[p] >= '0' && s[p] <= '9' {
			p++
		}
	}
	sc.pos = p
	n := &sc.nodes[idx]
	n.kind, n.start, n.end = kindNumber, int32(start), int32(p)
}

// str scans a string starting at the opening quote. It validates escapes,
// rejects raw control characters and checks that the bytes are UTF-8.
func (sc *scanner) str() (start, end int32, esc, ok bool) {
	s := sc.s
	p := sc.pos + 1
	begin := p
	ascii := true
	for {
		for p < len(s) && plainStringByte[s[p]] {
			p++
		}
		if p >= len(s) {
			sc.fail(ErrSyntax, sc.pos, "unterminated string")
			return 0, 0, false, false
		}
		c := s[p]
		switch {
		case c == '"':
			if !ascii && !utf8.ValidString(s[begin:p]) {
				off := begin
				for off < p {
					r, size := utf8.DecodeRuneInString(s[off:p])
					if r == utf8.RuneError && size <= 1 {
						break
					}
					off += size
				}
				sc.fail(ErrInvalidUTF8, off, "invalid UTF-8 in a string")
				return 0, 0, false, false
			}
			sc.pos = p + 1
			return int32(begin), int32(p), esc, true
		case c == '\\':
			esc = true
			if p+1 >= len(s) {
				sc.fail(ErrSyntax, p, "unterminated escape")
				return 0, 0, false, false
			}
			switch s[p+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				p += 2
			case 'u':
				if p+6 > len(s) || !isHex4(s[p+2:p+6]) {
					sc.fail(ErrSyntax, p, `invalid \u escape`)
					return 0, 0, false, false
				}
				p += 6
			default:
				sc.fail(ErrSyntax, p, "invalid escape "+strconv.Quote(s[p:p+2]))
				return 0, 0, false, false
			}
		case c < 0x20:
			sc.fail(ErrSyntax, p, "control character in a string")
			return 0, 0, false, false
		default: // c >= 0x80
			ascii = false
			p++
		}
	}
}

// plainStringByte marks the bytes a JSON string holds as they are: printable
// ASCII other than the quote and the backslash.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < 0x80; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func (sc *scanner) object(idx int32, depth int) {
	sc.pos++ // {
	sc.skipSpace()
	var last int32
	var count int32
	if sc.pos < len(sc.s) && sc.s[sc.pos] == '}' {
		sc.pos++
		n := &sc.nodes[idx]
		n.kind, n.end = kindObject, int32(sc.pos)
		return
	}
	for {
		sc.skipSpace()
		if sc.pos >= len(sc.s) {
			sc.fail(ErrSyntax, sc.pos, "unexpected end of input in an object")
			return
		}
		if sc.s[sc.pos] != '"' {
			sc.fail(ErrSyntax, sc.pos, "unexpected "+quoteByte(sc.s[sc.pos])+" where a member name was expected")
			return
		}
		ks, ke, kesc, ok := sc.str()
		if !ok {
			return
		}
		sc.skipSpace()
		if sc.pos >= len(sc.s) || sc.s[sc.pos] != ':' {
			sc.fail(ErrSyntax, sc.pos, "expected ':' after a member name")
			return
		}
		sc.pos++
		sc.skipSpace()
		child := sc.value(depth)
		if sc.err != nil {
			return
		}
		c := &sc.nodes[child]
		c.kstart, c.kend, c.kesc = ks, ke, kesc
		if last == 0 {
			sc.nodes[idx].child = child
		} else {
			sc.nodes[last].next = child
		}
		last = child
		count++
		sc.skipSpace()
		if sc.pos >= len(sc.s) {
			sc.fail(ErrSyntax, sc.pos, "unexpected end of input in an object")
			return
		}
		switch sc.s[sc.pos] {
		case ',':
			sc.pos++
		case '}':
			sc.pos++
			n := &sc.nodes[idx]
			n.kind, n.end, n.count = kindObject, int32(sc.pos), count
			return
		default:
			sc.fail(ErrSyntax, sc.pos, "unexpected "+quoteByte(sc.s[sc.pos])+" after an object member")
			return
		}
	}
}

func (sc *scanner) array(idx int32, depth int) {
	sc.pos++ // [
	sc.skipSpace()
	var last int32
	var count int32
	if sc.pos < len(sc.s) && sc.s[sc.pos] == ']' {
		sc.pos++
		n := &sc.nodes[idx]
		n.kind, n.end = kindArray, int32(sc.pos)
		return
	}
	for {
		sc.skipSpace()
		child := sc.value(depth)
		if sc.err != nil {
			return
		}
		if last == 0 {
			sc.nodes[idx].child = child
		} else {
			sc.nodes[last].next = child
		}
		last = child
		count++
		sc.skipSpace()
		if sc.pos >= len(sc.s) {
			sc.fail(ErrSyntax, sc.pos, "unexpected end of input in an array")
			return
		}
		switch sc.s[sc.pos] {
		case ',':
			sc.pos++
		case ']':
			sc.pos++
			n := &sc.nodes[idx]
			n.kind, n.end, n.count = kindArray, int32(sc.pos), count
			return
		default:
			sc.fail(ErrSyntax, sc.pos, "unexpected "+quoteByte(sc.s[sc.pos])+" after an array element")
			return
		}
	}
}

func quoteByte(c byte) string {
	if c < 0x20 || c >= 0x7f {
		return "byte 0x" + strconv.FormatUint(uint64(c), 16)
	}
	return strconv.QuoteRune(rune(c))
}

// unescape decodes the escapes of a JSON string body that the scanner has
// already validated. Lone surrogates become U+FFFD, as encoding/json does.
func unescape(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		switch s[i+1] {
		case '"':
			b = append(b, '"')
		case '\\':
			b = append(b, '\\')
		case '/':
			b = append(b, '/')
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := rune(hex4(s[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				if i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2 := rune(hex4(s[i+2 : i+6]))
					if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
						b = utf8.AppendRune(b, dec)
						i += 6
						continue
					}
				}
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
			continue
		}
		i += 2
	}
	return string(b)
}

func hex4(s string) uint32 {
	var v uint32
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		v = v<<4 | uint32(c)
	}
	return v
}

// lineCol converts a byte offset into a 1-based line and column.
func lineCol(s string, off int) (line, col int) {
	if off > len(s) {
		off = len(s)
	}
	line, col = 1, 1
	for i := 0; i < off; i++ {
		if s[i] == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return line, col
}
