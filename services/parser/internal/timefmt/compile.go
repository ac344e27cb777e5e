package timefmt

import (
	"fmt"
	"unsafe"
)

type opKind uint8

const (
	opLit       opKind = iota // literal text (ASCII case-insensitive)
	opSpace                   // strftime whitespace: zero or more spaces/tabs
	opYear                    // full year, min..max digits
	opYear2                   // two-digit year
	opMonth                   // 1..12
	opMonthName               // Jan / January
	opDay                     // 1..31
	opYDay                    // 1..366
	opHour                    // 0..23
	opHour12                  // 1..12 (h, %I)
	opHour0to11               // 0..11 (K)
	opHour1to24               // 1..24 (k)
	opMinute                  // 0..59
	opSecond                  // 0..59
	opFrac                    // fraction of second
	opAMPM                    // AM / PM
	opWeekday                 // Mon / Monday, checked for spelling only
	opOffset                  // Z, ±hh, ±hhmm, ±hh:mm, UTC, GMT
	opZoneAbbr                // UTC, GMT, EST, ...
	opZoneID                  // IANA name such as Europe/Paris
	opZLit                    // literal Z meaning UTC (strftime "%SZ")
	opEpoch                   // seconds since the epoch (%s)
)

type op struct {
	kind     opKind
	min, max uint8  // digit bounds for numeric ops
	padSpace bool   // numeric op may be preceded by spaces (%e, %k, %l)
	lit      string // for opLit
}

func isNumeric(k opKind) bool {
	switch k {
	case opYear, opYear2, opMonth, opDay, opYDay, opHour, opHour12, opHour0to11,
		opHour1to24, opMinute, opSecond, opFrac, opEpoch:
		return true
	}
	return false
}

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

func addLit(ops []op, s string) []op {
	if n := len(ops); n > 0 && ops[n-1].kind == opLit {
		ops[n-1].lit += s
		return ops
	}
	return append(ops, op{kind: opLit, lit: s})
}

// compileJoda compiles a Joda-Time DateTimeFormat pattern.
func compileJoda(layout string) ([]op, error) {
	var ops []op
	var tokLen []int // token length of each op, for adjacent-number handling
	push := func(o op, n int) {
		ops = append(ops, o)
		tokLen = append(tokLen, n)
	}
	for i := 0; i < len(layout); {
		c := layout[i]
		if c == '\'' {
			// Quoted literal; '' is a single quote.
			j := i + 1
			if j < len(layout) && layout[j] == '\'' {
				push(op{kind: opLit, lit: "'"}, 0)
				i += 2
				continue
			}
			var lit []byte
			for {
				if j >= len(layout) {
					return nil, fmt.Errorf("unterminated quote at byte %d", i)
				}
				if layout[j] == '\'' {
					if j+1 < len(layout) && layout[j+1] == '\'' {
						lit = append(lit, '\'')
						j += 2
						continue
					}
					break
				}
				lit = append(lit, layout[j])
				j++
			}
			push(op{kind: opLit, lit: string(lit)}, 0)
			i = j + 1
			continue
		}
		if !isLetter(c) {
			j := i
			for j < len(layout) && !isLetter(layout[j]) && layout[j] != '\'' {
				j++
			}
			push(op{kind: opLit, lit: layout[i:j]}, 0)
			i = j
			continue
		}
		j := i
		for j < len(layout) && layout[j] == c {
			j++
		}
		n := j - i
		var o op
		switch c {
		case 'y', 'Y', 'u':
			switch {
			case n == 2:
				o = op{kind: opYear2, min: 2, max: 2}
			case n >= 4:
				o = op{kind: opYear, min: 4, max: 4}
			default:
				o = op{kind: opYear, min: 1, max: 4}
			}
		case 'M':
			if n >= 3 {
				o = op{kind: opMonthName}
			} else {
				o = op{kind: opMonth, min: 1, max: 2}
			}
		case 'd':
			o = op{kind: opDay, min: 1, max: 2}
		case 'D':
			o = op{kind: opYDay, min: 1, max: 3}
		case 'H':
			o = op{kind: opHour, min: 1, max: 2}
		case 'h':
			o = op{kind: opHour12, min: 1, max: 2}
		case 'K':
			o = op{kind: opHour0to11, min: 1, max: 2}
		case 'k':
			o = op{kind: opHour1to24, min: 1, max: 2}
		case 'm':
			o = op{kind: opMinute, min: 1, max: 2}
		case 's':
			o = op{kind: opSecond, min: 1, max: 2}
		case 'S':
			o = op{kind: opFrac, min: 1, max: 9}
		case 'a':
			o = op{kind: opAMPM}
		case 'E':
			o = op{kind: opWeekday}
		case 'Z', 'X':
			if n >= 3 && c == 'Z' {
				o = op{kind: opZoneID}
			} else {
				o = op{kind: opOffset}
			}
		case 'z':
			o = op{kind: opZoneAbbr}
		default:
			return nil, fmt.Errorf("unsupported pattern letter %q at byte %d (quote literal text, as in 'T')", c, i)
		}
		push(o, n)
		i = j
	}
	// Merge consecutive literals.
	var merged []op
	var mergedLen []int
	for k, o := range ops {
		if o.kind == opLit && len(merged) > 0 && merged[len(merged)-1].kind == opLit {
			merged[len(merged)-1].lit += o.lit
			continue
		}
		merged = append(merged, o)
		mergedLen = append(mergedLen, tokLen[k])
	}
	// Joda: a number directly followed by another number is parsed with a
	// fixed width equal to its pattern length ("yyyyMMdd").
	for k := 0; k+1 < len(merged); k++ {
		if isNumeric(merged[k].kind) && isNumeric(merged[k+1].kind) {
			w := uint8(min(mergedLen[k], 9))
			merged[k].min, merged[k].max = w, w
		}
	}
	return merged, nil
}

func isLetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// compileStrftime compiles a strptime(3)-style layout with the Fluent Bit
// extension %L (fraction of a second).
func compileStrftime(layout string) ([]op, error) {
	var ops []op
	for i := 0; i < len(layout); {
		c := layout[i]
		if isSpace(c) {
			for i < len(layout) && isSpace(layout[i]) {
				i++
			}
			if n := len(ops); n == 0 || ops[n-1].kind != opSpace {
				ops = append(ops, op{kind: opSpace})
			}
			continue
		}
		if c != '%' {
			// Fluent Bit reads a literal Z right after the seconds as UTC.
			if c == 'Z' && len(ops) > 0 {
				if k := ops[len(ops)-1].kind; k == opSecond || k == opFrac {
					ops = append(ops, op{kind: opZLit})
					i++
					continue
				}
			}
			ops = addLit(ops, layout[i:i+1])
			i++
			continue
		}
		i++
		// Skip flags and E/O modifiers.
		for i < len(layout) && (layout[i] == '-' || layout[i] == '_' || layout[i] == '0' ||
			layout[i] == '^' || layout[i] == '#' || layout[i] == 'E' || layout[i] == 'O') {
			i++
		}
		if i >= len(layout) {
			return nil, fmt.Errorf("trailing %% at end of layout")
		}
		d := layout[i]
		i++
		var expand string
		switch d {
		case 'Y':
			ops = append(ops, op{kind: opYear, min: 1, max: 4})
		case 'y':
			ops = append(ops, op{kind: opYear2, min: 1, max: 2})
		case 'm':
			ops = append(ops, op{kind: opMonth, min: 1, max: 2})
		case 'd':
			ops = append(ops, op{kind: opDay, min: 1, max: 2})
		case 'e':
			ops = append(ops, op{kind: opDay, min: 1, max: 2, padSpace: true})
		case 'j':
			ops = append(ops, op{kind: opYDay, min: 1, max: 3})
		case 'H':
			ops = append(ops, op{kind: opHour, min: 1, max: 2})
		case 'k':
			ops = append(ops, op{kind: opHour, min: 1, max: 2, padSpace: true})
		case 'I':
			ops = append(ops, op{kind: opHour12, min: 1, max: 2})
		case 'l':
			ops = append(ops, op{kind: opHour12, min: 1, max: 2, padSpace: true})
		case 'M':
			ops = append(ops, op{kind: opMinute, min: 1, max: 2})
		case 'S':
			ops = append(ops, op{kind: opSecond, min: 1, max: 2})
		case 'L', 'f', 'N':
			ops = append(ops, op{kind: opFrac, min: 1, max: 9})
		case 'b', 'B', 'h':
			ops = append(ops, op{kind: opMonthName})
		case 'a', 'A':
			ops = append(ops, op{kind: opWeekday})
		case 'p', 'P':
			ops = append(ops, op{kind: opAMPM})
		case 'z':
			ops = append(ops, op{kind: opOffset})
		case 'Z':
			ops = append(ops, op{kind: opZoneAbbr})
		case 's':
			ops = append(ops, op{kind: opEpoch, min: 1, max: 19})
		case 'n', 't':
			if n := len(ops); n == 0 || ops[n-1].kind != opSpace {
				ops = append(ops, op{kind: opSpace})
			}
		case '%':
			ops = addLit(ops, "%")
		case 'T':
			expand = "%H:%M:%S"
		case 'D':
			expand = "%m/%d/%y"
		case 'F':
			expand = "%Y-%m-%d"
		case 'R':
			expand = "%H:%M"
		case 'r':
			expand = "%I:%M:%S %p"
		case 'c':
			expand = "%a %b %e %H:%M:%S %Y"
		case 'x':
			expand = "%m/%d/%y"
		case 'X':
			expand = "%H:%M:%S"
		default:
			return nil, fmt.Errorf("unsupported directive %%%c", d)
		}
		if expand != "" {
			sub, err := compileStrftime(expand)
			if err != nil {
				return nil, err
			}
			for _, o := range sub {
				if o.kind == opLit {
					ops = addLit(ops, o.lit)
				} else {
					ops = append(ops, o)
				}
			}
		}
	}
	return ops, nil
}
