package vocab

import "time"

// parseTime reads the timestamp forms found in the wild: RFC 3339 with 0 to
// 9 fractional digits and "Z", "+00:00" or "+0000" offsets, a space instead
// of "T", seconds left out, or no offset at all (read as UTC; zoned reports
// whether an offset was present). It allocates nothing.
func parseTime(s string) (t time.Time, zoned, ok bool) {
	// YYYY-MM-DD
	if len(s) < 16 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' {
		return time.Time{}, false, false
	}
	year, ok1 := digits(s[0:4])
	month, ok2 := digits(s[5:7])
	day, ok3 := digits(s[8:10])
	hour, ok4 := digits(s[11:13])
	minute, ok5 := digits(s[14:16])
	if !(ok1 && ok2 && ok3 && ok4 && ok5) {
		return time.Time{}, false, false
	}
	p := 16
	sec, nsec := 0, 0
	if p < len(s) && s[p] == ':' {
		if p+3 > len(s) {
			return time.Time{}, false, false
		}
		v, ok := digits(s[p+1 : p+3])
		if !ok {
			return time.Time{}, false, false
		}
		sec = v
		p += 3
		if p < len(s) && (s[p] == '.' || s[p] == ',') {
			p++
			start := p
			scale := 100000000
			for p < len(s) && s[p] >= '0' && s[p] <= '9' {
				if p-start < 9 {
					nsec += int(s[p]-'0') * scale
					scale /= 10
				}
				p++
			}
			if p == start {
				return time.Time{}, false, false
			}
		}
	}
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 24 || minute > 59 || sec > 60 {
		return time.Time{}, false, false
	}
	loc := time.UTC
	offset := 0
	switch {
	case p == len(s):
		// No offset: read as UTC.
	case s[p] == 'Z' || s[p] == 'z':
		if p+1 != len(s) {
			return time.Time{}, false, false
		}
		zoned = true
	case s[p] == '+' || s[p] == '-':
		rest := s[p+1:]
		var oh, om int
		var okh, okm bool
		switch len(rest) {
		case 5: // HH:MM
			if rest[2] != ':' {
				return time.Time{}, false, false
			}
			oh, okh = digits(rest[0:2])
			om, okm = digits(rest[3:5])
		case 4: // HHMM
			oh, okh = digits(rest[0:2])
			om, okm = digits(rest[2:4])
		case 2: // HH
			oh, okh = digits(rest[0:2])
			okm = true
		default:
			return time.Time{}, false, false
		}
		if !okh || !okm || oh > 23 || om > 59 {
			return time.Time{}, false, false
		}
		offset = oh*3600 + om*60
		if s[p] == '-' {
			offset = -offset
		}
		zoned = true
	default:
		return time.Time{}, false, false
	}
	if offset != 0 {
		loc = time.FixedZone("", offset)
	}
	t = time.Date(year, time.Month(month), day, hour, minute, sec, nsec, loc)
	if t.Day() != day && sec != 60 && hour != 24 {
		// time.Date normalised an impossible date such as February 30.
		return time.Time{}, false, false
	}
	return t, zoned, true
}

func digits(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// appendTime writes t as RFC 3339 in UTC, with as many fractional digits
// as it needs.
func appendTime(b []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(b, time.RFC3339Nano)
}
