package vocab

import "strings"

// validLanguageTag reports whether tag is a well-formed BCP 47 language tag
// (RFC 5646 section 2.1), as a contentMap or nameMap key must be.
func validLanguageTag(tag string) bool {
	if tag == "" {
		return false
	}
	for _, g := range grandfathered {
		if strings.EqualFold(tag, g) {
			return true
		}
	}
	// Split without allocating; no well-formed tag in use has more subtags.
	var buf [32]string
	parts := buf[:0]
	for rest := tag; ; {
		i := strings.IndexByte(rest, '-')
		if i < 0 {
			parts = append(parts, rest)
			break
		}
		if len(parts) == len(buf)-1 {
			return false
		}
		parts = append(parts, rest[:i])
		rest = rest[i+1:]
	}
	return wellFormed(parts)
}

// grandfathered lists the irregular and regular grandfathered tags.
var grandfathered = []string{"en-GB-oed", "i-ami", "i-bnn", "i-default", "i-enochian", "i-hak", "i-klingon",
	"i-lux", "i-mingo", "i-navajo", "i-pwn", "i-tao", "i-tay", "i-tsu", "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE",
	"art-lojban", "cel-gaulish", "no-bok", "no-nyn", "zh-guoyu", "zh-hakka", "zh-min", "zh-min-nan", "zh-xiang"}

func wellFormed(parts []string) bool {
	if parts[0] == "x" || parts[0] == "X" {
		return validPrivateUse(parts[1:])
	}
	// language
	l := parts[0]
	if !isAlpha(l) || len(l) < 2 || len(l) > 8 {
		return false
	}
	i := 1
	if len(l) <= 3 {
		// up to three extlang subtags
		for n := 0; n < 3 && i < len(parts) && len(parts[i]) == 3 && isAlpha(parts[i]); n++ {
			i++
		}
	}
	// script
	if i < len(parts) && len(parts[i]) == 4 && isAlpha(parts[i]) {
		i++
	}
	// region
	if i < len(parts) && ((len(parts[i]) == 2 && isAlpha(parts[i])) || (len(parts[i]) == 3 && isDigits(parts[i]))) {
		i++
	}
	// variants
	for i < len(parts) && isVariant(parts[i]) {
		i++
	}
	// extensions
	for i < len(parts) && len(parts[i]) == 1 && parts[i] != "x" && parts[i] != "X" && isAlnum(parts[i]) {
		i++
		n := 0
		for i < len(parts) && len(parts[i]) >= 2 && len(parts[i]) <= 8 && isAlnum(parts[i]) {
			i++
			n++
		}
		if n == 0 {
			return false
		}
	}
	if i < len(parts) && (parts[i] == "x" || parts[i] == "X") {
		return validPrivateUse(parts[i+1:])
	}
	return i == len(parts)
}

func validPrivateUse(parts []string) bool {
	if len(parts) == 0 {
		return false
	}
	for _, p := range parts {
		if len(p) < 1 || len(p) > 8 || !isAlnum(p) {
			return false
		}
	}
	return true
}

func isVariant(s string) bool {
	if !isAlnum(s) {
		return false
	}
	if len(s) >= 5 && len(s) <= 8 {
		return true
	}
	return len(s) == 4 && s[0] >= '0' && s[0] <= '9'
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c|0x20 >= 'a' && c|0x20 <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}
