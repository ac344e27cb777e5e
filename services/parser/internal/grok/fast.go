package grok

import (
	"bytes"
	"regexp/syntax"
	"unicode/utf8"
)

// The fast path walks the parsed regular expression directly and follows the
// path a leftmost-first (Perl-order) backtracker would try first, without
// ever backtracking. Every evaluation returns one of three answers:
//
//	stMatch   - the first successful path in priority order; its captures are
//	            exactly what RE2 reports, because RE2 returns the same match a
//	            backtracker would find first.
//	stNo      - proven that no path exists from here.
//	stUnknown - the first path failed after a choice point that has other
//	            options; only real search can decide, so the caller falls back
//	            to RE2.
//
// The only search performed is bounded and local: a repetition of a single
// character class may step through its possible lengths while the element
// that follows it fails immediately (proven failures cannot change the result).

type status uint8

const (
	stNo status = iota
	stMatch
	stUnknown
)

type opKind uint8

const (
	opEmpty opKind = iota
	opNoMatch
	opLit
	opClass
	opRepeatClass
	opRepeat
	opConcat
	opAlt
	opCapture
	opBeginText
	opEndText
	opBeginLine
	opEndLine
	opWordB
	opNoWordB
)

type byteSet [4]uint64

func (s *byteSet) add(b byte)       { s[b>>6] |= 1 << (b & 63) }
func (s *byteSet) has(b byte) bool  { return s[b>>6]&(1<<(b&63)) != 0 }
func (s *byteSet) union(o *byteSet) { s[0] |= o[0]; s[1] |= o[1]; s[2] |= o[2]; s[3] |= o[3] }
func (s *byteSet) addRange(lo, hi int) {
	for b := lo; b <= hi; b++ {
		s.add(byte(b))
	}
}

// class is a character class: a bitmap for ASCII and sorted rune ranges above.
type class struct {
	tbl   [256]bool // ASCII members (bytes >= 0x80 are always false)
	ascii byteSet
	hi    []rune
	// anyBut is set when the class holds every rune except possibly one
	// ASCII byte, skip (-1: none): then any run of bytes without skip is a
	// run of class members (invalid UTF-8 reads as U+FFFD, a member too).
	anyBut bool
	skip   int
}

func newClass(ranges []rune) *class {
	c := &class{}
	for i := 0; i+1 < len(ranges); i += 2 {
		lo, hi := ranges[i], ranges[i+1]
		for r := lo; r <= hi && r < utf8.RuneSelf; r++ {
			c.ascii.add(byte(r))
			c.tbl[r] = true
		}
		if hi >= utf8.RuneSelf {
			c.hi = append(c.hi, max(lo, utf8.RuneSelf), hi)
		}
	}
	if len(c.hi) == 2 && c.hi[0] == utf8.RuneSelf && c.hi[1] == utf8.MaxRune {
		missing := 0
		c.skip = -1
		for b := 0; b < utf8.RuneSelf; b++ {
			if !c.tbl[b] {
				missing++
				c.skip = b
			}
		}
		c.anyBut = missing <= 1
	}
	return c
}

// width returns the byte width of the rune at s[p] if it is in the class,
// else 0. Invalid UTF-8 reads as U+FFFD of width 1, as in package regexp.
func (c *class) width(s []byte, p int) int {
	if p >= len(s) {
		return 0
	}
	b := s[p]
	if c.tbl[b] {
		return 1
	}
	if b < utf8.RuneSelf {
		return 0
	}
	if len(c.hi) == 0 {
		return 0
	}
	r, w := utf8.DecodeRune(s[p:])
	for i := 0; i < len(c.hi); i += 2 {
		if r < c.hi[i] {
			return 0
		}
		if r <= c.hi[i+1] {
			return w
		}
	}
	return 0
}

type node struct {
	// Hot fields first: eval reads op, scan and the capture range of every
	// node it visits, so they share the node's first cache line.
	op       opKind
	fold     bool
	greedy   bool
	single   bool // at most one way to match from any position
	nullable bool
	scan     scanFunc // capture-free built-in with a hand-written scanner
	cap      int
	capLo    int // capture slots of this subtree: caps[capLo:capHi]
	capHi    int
	min, max int // max < 0: unbounded
	lit      []byte
	cls      *class
	sub      *node
	subs     []*node
	follows  []*follow // opConcat: what may follow each child within the concat
	depth    int       // opConcat: number of enclosing concats (lookahead slot)
	first    byteSet   // bytes a non-empty match can start with
	sh       shape
}

// shapeK is how many leading bytes a shape describes.
const shapeK = 4

// shape is a conservative summary of a node's matches: which lengths below
// shapeK are possible (bit shapeK: any length >= shapeK), and for each offset
// k < shapeK the bytes a match longer than k can have there. It lets an
// alternation skip branches that provably cannot match at a position.
type shape struct {
	lens uint8
	pos  [shapeK]byteSet
}

func (a shape) concat(b shape) shape {
	var out shape
	for la := 0; la <= shapeK; la++ {
		if a.lens&(1<<la) == 0 {
			continue
		}
		for lb := 0; lb <= shapeK; lb++ {
			if b.lens&(1<<lb) != 0 {
				out.lens |= 1 << min(la+lb, shapeK)
			}
		}
	}
	for k := 0; k < shapeK; k++ {
		out.pos[k] = a.pos[k]
		for la := 0; la <= k; la++ {
			if a.lens&(1<<la) != 0 {
				out.pos[k].union(&b.pos[k-la])
			}
		}
	}
	return out
}

func (a shape) union(b shape) shape {
	a.lens |= b.lens
	for k := range a.pos {
		a.pos[k].union(&b.pos[k])
	}
	return a
}

var emptyShape = shape{lens: 1}

func anyShape() shape {
	s := shape{lens: 1<<(shapeK+1) - 1}
	for k := range s.pos {
		s.pos[k] = byteSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
	}
	return s
}

// admits reports whether n could match at p, judging by its shape.
func (n *node) admits(in []byte, p int) bool {
	sh := &n.sh
	for k := 0; k < shapeK; k++ {
		if p+k >= len(in) || !sh.pos[k].has(in[p+k]) {
			// Any match must end by offset k.
			return sh.lens&(1<<(k+1)-1) != 0
		}
	}
	return true
}

func (b *builder) shapeOf(n *node) shape {
	switch n.op {
	case opNoMatch:
		return shape{}
	case opEmpty, opBeginText, opEndText, opBeginLine, opEndLine, opWordB, opNoWordB:
		return emptyShape
	case opLit:
		if n.fold {
			return anyShape()
		}
		var s shape
		s.lens = 1 << min(len(n.lit), shapeK)
		for k := 0; k < shapeK && k < len(n.lit); k++ {
			s.pos[k].add(n.lit[k])
		}
		return s
	case opClass:
		return classShape(n.cls)
	case opCapture:
		return n.sub.sh
	case opConcat:
		s := emptyShape
		for _, c := range n.subs {
			s = s.concat(c.sh)
		}
		return s
	case opAlt:
		var s shape
		for _, c := range n.subs {
			s = s.union(c.sh)
		}
		return s
	case opRepeatClass, opRepeat:
		x := classShape(n.cls)
		if n.op == opRepeat {
			x = n.sub.sh
		}
		s := emptyShape
		for i := 0; i < n.min && i <= shapeK; i++ {
			s = s.concat(x)
		}
		acc := s
		for i := n.min; (n.max < 0 || i < n.max) && i <= n.min+shapeK; i++ {
			s = s.concat(x)
			acc = acc.union(s)
		}
		return acc
	}
	return anyShape()
}

func classShape(c *class) shape {
	if c == nil {
		return anyShape()
	}
	s := shape{lens: 1 << 1}
	s.pos[0] = firstOfClass(c)
	if len(c.hi) > 0 {
		// A rune may take up to four bytes.
		s.lens |= 1<<2 | 1<<3 | 1<<4
		for k := 1; k < shapeK; k++ {
			s.pos[k].addRange(0x80, 0xff)
		}
	}
	return s
}

// follow summarises what the siblings after a concat child can start with.
type follow struct {
	set      byteSet // first bytes of the siblings up to the first non-nullable one
	nullable bool    // all following siblings can match empty
	lit      []byte  // the next sibling is this exact literal
	end      opKind  // the next sibling is opEndText or opEndLine
}

// la is a lookahead: the follow of the current concat position, then that
// of the enclosing concats.
type la struct {
	f  *follow
	up *la
}

// prog is a compiled fast-path program.
type prog struct {
	root     *node
	ncap     int // number of capture groups including group 0
	nla      int // lookahead slots: maximum concat nesting
	anchored bool
	// req are literals every match contains, in this order and without
	// overlapping; a line lacking them cannot match (see mayMatch).
	req [][]byte
}

// buildProg converts a parsed regexp into a fast-path program, or returns
// nil if it uses a construct the fast path does not handle exactly.
func buildProg(re *syntax.Regexp, ncap int) *prog {
	b := &builder{}
	root := b.build(re)
	if b.bad || root == nil {
		return nil
	}
	p := &prog{root: root, ncap: ncap, nla: b.maxDept}
	p.anchored = startsAnchored(root)
	p.req = required(root, nil)
	return p
}

// required appends to req the literals every match of n contains, in
// order: the exact literals along concatenations, through captures and
// repetitions that match at least once. Alternations and case-folded
// literals contribute nothing.
func required(n *node, req [][]byte) [][]byte {
	switch n.op {
	case opLit:
		if !n.fold {
			req = append(req, n.lit)
		}
	case opCapture:
		req = required(n.sub, req)
	case opRepeat:
		if n.min > 0 {
			req = required(n.sub, req)
		}
	case opConcat:
		for _, c := range n.subs {
			req = required(c, req)
		}
	}
	return req
}

// mayMatch reports whether in contains the required literals in order: a
// match, wherever it starts, contains them, so when they are missing the
// line is proven not to match. Matching a literal rune means matching its
// exact UTF-8 bytes, so a byte search is exact.
func (pr *prog) mayMatch(in []byte) bool {
	for _, lit := range pr.req {
		i := bytes.Index(in, lit)
		if i < 0 {
			return false
		}
		in = in[i+len(lit):]
	}
	return true
}

func startsAnchored(n *node) bool {
	switch n.op {
	case opBeginText:
		return true
	case opConcat:
		return len(n.subs) > 0 && startsAnchored(n.subs[0])
	case opCapture:
		return startsAnchored(n.sub)
	}
	return false
}

type builder struct {
	bad            bool
	depth, maxDept int
}

func (b *builder) build(re *syntax.Regexp) *node {
	n := b.build1(re)
	if n != nil {
		n.sh = b.shapeOf(n)
		if n.capHi == n.capLo {
			if s := scannerFor(re); s != nil {
				n.scan = s.fn
			}
		}
	}
	return n
}

func (b *builder) build1(re *syntax.Regexp) *node {
	n := &node{single: true}
	switch re.Op {
	case syntax.OpNoMatch:
		n.op = opNoMatch
	case syntax.OpEmptyMatch:
		n.op, n.nullable = opEmpty, true
	case syntax.OpLiteral:
		n.op = opLit
		fold := re.Flags&syntax.FoldCase != 0
		for _, r := range re.Rune {
			if r == utf8.RuneError || fold && r >= utf8.RuneSelf {
				b.bad = true
				return nil
			}
			n.lit = utf8.AppendRune(n.lit, r)
		}
		if fold {
			// Only letters fold; a fold literal without letters is exact.
			for _, c := range n.lit {
				if lower(c) != c || upper(c) != c {
					n.fold = true
				}
			}
		}
		if len(n.lit) == 0 {
			n.op, n.nullable = opEmpty, true
			break
		}
		c := n.lit[0]
		n.first.add(c)
		if n.fold {
			n.first.add(lower(c))
			n.first.add(upper(c))
			// Non-ASCII input may fold to an ASCII letter (e.g. KELVIN SIGN);
			// such positions are answered with stUnknown at match time.
			n.first.addRange(0x80, 0xff)
		}
	case syntax.OpCharClass, syntax.OpAnyCharNotNL, syntax.OpAnyChar:
		n.op = opClass
		n.cls = classOf(re)
		n.first = firstOfClass(n.cls)
	case syntax.OpBeginLine:
		n.op, n.nullable = opBeginLine, true
	case syntax.OpEndLine:
		n.op, n.nullable = opEndLine, true
	case syntax.OpBeginText:
		n.op, n.nullable = opBeginText, true
	case syntax.OpEndText:
		n.op, n.nullable = opEndText, true
	case syntax.OpWordBoundary:
		n.op, n.nullable = opWordB, true
	case syntax.OpNoWordBoundary:
		n.op, n.nullable = opNoWordB, true
	case syntax.OpCapture:
		n.op = opCapture
		n.cap = re.Cap
		n.sub = b.build(re.Sub[0])
		if n.sub == nil {
			return nil
		}
		n.single, n.nullable, n.first = n.sub.single, n.sub.nullable, n.sub.first
		n.capLo, n.capHi = 2*re.Cap, max(2*re.Cap+2, n.sub.capHi)
		return n
	case syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat:
		lo, hi := re.Min, re.Max
		switch re.Op {
		case syntax.OpStar:
			lo, hi = 0, -1
		case syntax.OpPlus:
			lo, hi = 1, -1
		case syntax.OpQuest:
			lo, hi = 0, 1
		}
		sub := b.build(re.Sub[0])
		if sub == nil {
			return nil
		}
		n.min, n.max, n.greedy = lo, hi, re.Flags&syntax.NonGreedy == 0
		n.single = sub.single && lo == hi
		n.nullable = lo == 0 || sub.nullable
		n.first = sub.first
		if sub.op == opClass {
			n.op, n.cls = opRepeatClass, sub.cls
		} else {
			n.op, n.sub = opRepeat, sub
			n.capLo, n.capHi = sub.capLo, sub.capHi
		}
		return n
	case syntax.OpConcat:
		n.op = opConcat
		n.nullable = true
		n.depth = b.depth
		b.maxDept = max(b.maxDept, b.depth+1)
		b.depth++
		defer func() { b.depth-- }()
		firstDone := false
		for _, s := range re.Sub {
			c := b.build(s)
			if c == nil {
				return nil
			}
			n.subs = append(n.subs, c)
			n.single = n.single && c.single
			if !firstDone {
				n.first.union(&c.first)
				if !c.nullable {
					firstDone = true
				}
			}
			n.nullable = n.nullable && c.nullable
		}
		n.setCapRange()
		n.follows = make([]*follow, len(n.subs))
		for i := range n.subs {
			f := &follow{nullable: true}
			if i+1 < len(n.subs) {
				switch nx := n.subs[i+1]; {
				case nx.op == opLit && !nx.fold:
					f.lit = nx.lit
				case nx.op == opEndText || nx.op == opEndLine:
					f.end = nx.op
				}
			}
			for _, c := range n.subs[i+1:] {
				f.set.union(&c.first)
				if !c.nullable {
					f.nullable = false
					break
				}
			}
			n.follows[i] = f
		}
	case syntax.OpAlternate:
		n.op = opAlt
		n.single = false
		for _, s := range re.Sub {
			c := b.build(s)
			if c == nil {
				return nil
			}
			n.subs = append(n.subs, c)
			n.first.union(&c.first)
			n.nullable = n.nullable || c.nullable
		}
		n.setCapRange()
	default:
		b.bad = true
		return nil
	}
	return n
}

func (n *node) setCapRange() {
	n.capLo, n.capHi = 0, 0
	for _, s := range n.subs {
		if s.capHi > s.capLo {
			if n.capHi == n.capLo {
				n.capLo, n.capHi = s.capLo, s.capHi
			} else {
				n.capLo, n.capHi = min(n.capLo, s.capLo), max(n.capHi, s.capHi)
			}
		}
	}
}

func classOf(re *syntax.Regexp) *class {
	switch re.Op {
	case syntax.OpAnyCharNotNL:
		return newClass([]rune{0, '\n' - 1, '\n' + 1, utf8.MaxRune})
	case syntax.OpAnyChar:
		return newClass([]rune{0, utf8.MaxRune})
	}
	return newClass(re.Rune)
}

func firstOfClass(c *class) byteSet {
	s := c.ascii
	if len(c.hi) > 0 {
		s.addRange(0x80, 0xff)
	}
	return s
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func upper(c byte) byte {
	if c >= 'a' && c <= 'z' {
		return c - ('a' - 'A')
	}
	return c
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// machine holds the per-match scratch state of the fast path.
type machine struct {
	in     []byte
	caps   []int
	stack  []int
	las    []la
	steps  int
	budget int
}

func (m *machine) step() bool {
	m.steps++
	return m.steps <= m.budget
}

// exec runs the program over m.in; on stMatch m.caps holds the submatch
// positions in the layout of regexp.FindSubmatchIndex.
func (pr *prog) exec(m *machine) status {
	in := m.in
	m.steps, m.budget = 0, 64*len(in)+1024
	root := pr.root
	filtered := false
	for p := 0; p <= len(in); {
		if !root.nullable {
			for p < len(in) && !root.first.has(in[p]) {
				if in[p] < utf8.RuneSelf {
					p++
				} else {
					_, w := utf8.DecodeRune(in[p:])
					p += w
				}
			}
			if p >= len(in) {
				return stNo
			}
		}
		for i := range m.caps {
			m.caps[i] = -1
		}
		m.stack = m.stack[:0]
		e, st := m.eval(root, p, nil)
		switch st {
		case stMatch:
			m.caps[0], m.caps[1] = p, e
			return stMatch
		case stUnknown:
			// Earlier starts are proven failures, so a match would lie
			// within in[p:]; without the required literals there is none.
			if !pr.mayMatch(in[p:]) {
				return stNo
			}
			return stUnknown
		}
		if pr.anchored || p >= len(in) {
			return stNo
		}
		if in[p] < utf8.RuneSelf {
			p++
		} else {
			_, w := utf8.DecodeRune(in[p:])
			p += w
		}
		// Typical lines match at their first start; a line that did not
		// is checked once for the required literals before trying the
		// others.
		if !filtered {
			filtered = true
			if !pr.mayMatch(in[p:]) {
				return stNo
			}
		}
	}
	return stNo
}

func (m *machine) save(n *node) int {
	mark := len(m.stack)
	if n.capHi > n.capLo {
		m.stack = append(m.stack, m.caps[n.capLo:n.capHi]...)
	}
	return mark
}

func (m *machine) restore(n *node, mark int) {
	if n.capHi > n.capLo {
		copy(m.caps[n.capLo:n.capHi], m.stack[mark:])
	}
	m.stack = m.stack[:mark]
}

// quick reports whether what must follow (l) could start at p: a cheap
// necessary condition, so positions it rejects are proven failures.
func (m *machine) quick(l *la, p int) bool {
	in := m.in
	for ; l != nil; l = l.up {
		f := l.f
		switch {
		case f.lit != nil:
			return len(in)-p >= len(f.lit) && in[p] == f.lit[0] && string(in[p:p+len(f.lit)]) == string(f.lit)
		case f.end == opEndText:
			return p == len(in)
		case f.end == opEndLine:
			return p == len(in) || in[p] == '\n'
		}
		if p < len(in) && f.set.has(in[p]) {
			return true
		}
		if !f.nullable {
			return false
		}
	}
	return true
}

// eval returns the end of the first option of n at p in priority order whose
// end passes quick(la); options it skips are proven to fail because la,
// which must follow, cannot start there.
func (m *machine) eval(n *node, p int, la *la) (int, status) {
	if !m.step() {
		return 0, stUnknown
	}
	if n.scan != nil {
		// The scanner's answer is the first option; when it is not followed
		// by what must come next, walk the subtree for the later options.
		e, st := n.scan(m.in, p)
		if st == stNo || st == stMatch && m.quick(la, e) {
			return e, st
		}
	}
	in := m.in
	var e int
	switch n.op {
	case opEmpty:
		e = p
	case opNoMatch:
		return 0, stNo
	case opLit:
		if !n.fold {
			if len(in)-p < len(n.lit) || string(in[p:p+len(n.lit)]) != string(n.lit) {
				return 0, stNo
			}
			e = p + len(n.lit)
			break
		}
		if len(in)-p < len(n.lit) {
			// A non-ASCII rune could fold into an ASCII letter; be safe.
			for _, c := range in[p:] {
				if c >= utf8.RuneSelf {
					return 0, stUnknown
				}
			}
			return 0, stNo
		}
		for i, c := range n.lit {
			d := in[p+i]
			if d >= utf8.RuneSelf {
				return 0, stUnknown
			}
			if lower(d) != lower(c) {
				return 0, stNo
			}
		}
		e = p + len(n.lit)
	case opClass:
		w := n.cls.width(in, p)
		if w == 0 {
			return 0, stNo
		}
		e = p + w
	case opRepeatClass:
		return m.repeatClass(n, p, la)
	case opRepeat:
		return m.repeat(n, p, la)
	case opConcat:
		return m.concat(n, p, la)
	case opAlt:
		for _, s := range n.subs {
			if !s.admits(in, p) {
				continue
			}
			e, st := m.try(s, p, la)
			if st != stNo {
				return e, st
			}
		}
		return 0, stNo
	case opCapture:
		e, st := m.eval(n.sub, p, la)
		if st == stMatch {
			m.caps[2*n.cap], m.caps[2*n.cap+1] = p, e
		}
		return e, st
	case opBeginText:
		if p != 0 {
			return 0, stNo
		}
		e = p
	case opEndText:
		if p != len(in) {
			return 0, stNo
		}
		e = p
	case opBeginLine:
		if p != 0 && in[p-1] != '\n' {
			return 0, stNo
		}
		e = p
	case opEndLine:
		if p != len(in) && in[p] != '\n' {
			return 0, stNo
		}
		e = p
	case opWordB, opNoWordB:
		a := p > 0 && isWordByte(in[p-1])
		b := p < len(in) && isWordByte(in[p])
		if (a != b) != (n.op == opWordB) {
			return 0, stNo
		}
		e = p
	default:
		return 0, stUnknown
	}
	// n is single: its only option either passes the lookahead or fails.
	if !m.quick(la, e) {
		return 0, stNo
	}
	return e, stMatch
}

// try is eval that undoes n's capture writes unless it matched.
func (m *machine) try(n *node, p int, la *la) (int, status) {
	if n.capHi == n.capLo {
		return m.eval(n, p, la)
	}
	mark := m.save(n)
	e, st := m.eval(n, p, la)
	if st == stMatch {
		m.stack = m.stack[:mark]
	} else {
		m.restore(n, mark)
	}
	return e, st
}

func (m *machine) concat(n *node, p int, up *la) (int, status) {
	single := true
	// bt is the last child with further options that concat can try itself:
	// a greedy class repeat (or a capture of one) followed only by single
	// children. When a later child is proven to fail, the repeat's next
	// shorter length is the next option in priority order.
	bt, btStart, btEnd, btSingle := -1, 0, 0, false
	for i := 0; i < len(n.subs); i++ {
		s := n.subs[i]
		next := up
		if i+1 < len(n.subs) {
			next = &m.las[n.depth]
			*next = la{f: n.follows[i], up: up}
		}
		e, st := m.eval(s, p, next)
		if st != stMatch {
			if st == stNo && single {
				return 0, stNo
			}
			if st != stNo || bt < 0 {
				return 0, stUnknown
			}
			l := &m.las[n.depth]
			*l = la{f: n.follows[bt], up: up}
			e, st = m.shorter(n.subs[bt], btStart, btEnd, l)
			if st == stNo && btSingle {
				return 0, stNo
			}
			if st != stMatch {
				return 0, stUnknown
			}
			i, p, btEnd = bt, e, e
			continue
		}
		if !s.single {
			bt = -1
			if backtrackable(s) {
				bt, btStart, btEnd, btSingle = i, p, e, single
			}
		}
		single = single && s.single
		p = e
	}
	return p, stMatch
}

// backtrackable reports whether concat can enumerate n's options itself.
func backtrackable(n *node) bool {
	if n.op == opCapture {
		n = n.sub
	}
	return n.op == opRepeatClass && n.greedy && n.scan == nil
}

// shorter returns the next option, after the one ending at end, of the
// greedy class repeat n (maybe inside a capture) started at start: the
// longest shorter run whose end passes quick(la).
func (m *machine) shorter(n *node, start, end int, la *la) (int, status) {
	rc := n
	if n.op == opCapture {
		rc = n.sub
	}
	in := m.in
	for q := start; q < end; q++ {
		if in[q] >= utf8.RuneSelf {
			return 0, stUnknown
		}
	}
	for q := end - 1; q >= start+rc.min; q-- {
		if m.quick(la, q) {
			if n.op == opCapture {
				m.caps[2*n.cap+1] = q
			}
			return q, stMatch
		}
		if !m.step() {
			return 0, stUnknown
		}
	}
	return 0, stNo
}

// repeatClass enumerates the lengths of a class repetition in priority order.
func (m *machine) repeatClass(n *node, p int, la *la) (int, status) {
	in, cls := m.in, n.cls
	if !n.greedy {
		cnt, end := 0, p
		for ; cnt < n.min; cnt++ {
			w := cls.width(in, end)
			if w == 0 {
				return 0, stNo
			}
			end += w
		}
		// When a literal must follow and the class takes any byte (but at
		// most one), positions up to the literal's next first byte fail the
		// lookahead: jump there with IndexByte instead of trying each one.
		// Such a byte (ASCII) is always a rune boundary.
		var lit0 byte
		jump := n.max < 0 && cls.anyBut && la != nil && la.f.lit != nil && la.f.lit[0] < utf8.RuneSelf
		if jump {
			lit0 = la.f.lit[0]
		}
		for {
			if jump && end < len(in) && in[end] != lit0 {
				q := bytes.IndexByte(in[end:], lit0)
				if q < 0 {
					q = len(in) - end
				}
				if cls.skip >= 0 && bytes.IndexByte(in[end:end+q], byte(cls.skip)) >= 0 {
					// The run stops before q, where the lookahead fails.
					return 0, stNo
				}
				if q == len(in)-end {
					return 0, stNo
				}
				m.steps += q
				if m.steps > m.budget {
					return 0, stUnknown
				}
				end += q
			}
			if m.quick(la, end) {
				return end, stMatch
			}
			if !m.step() {
				return 0, stUnknown
			}
			if n.max >= 0 && cnt >= n.max {
				return 0, stNo
			}
			w := cls.width(in, end)
			if w == 0 {
				return 0, stNo
			}
			end += w
			cnt++
		}
	}
	// ASCII run first: one table lookup per byte.
	end, limit := p, len(in)
	if n.max >= 0 && n.max < limit-p {
		limit = p + n.max
	}
	end += classRun(&cls.tbl, in[p:limit])
	cnt, ascii := end-p, true
	if len(cls.hi) > 0 && end < len(in) && in[end] >= utf8.RuneSelf {
		for n.max < 0 || cnt < n.max {
			w := cls.width(in, end)
			if w == 0 {
				break
			}
			if in[end] >= utf8.RuneSelf {
				ascii = false
			}
			end += w
			cnt++
		}
	}
	if cnt < n.min {
		return 0, stNo
	}
	if la == nil || m.quick(la, end) {
		return end, stMatch
	}
	if ascii {
		for k := cnt - 1; k >= n.min; k-- {
			if m.quick(la, p+k) {
				return p + k, stMatch
			}
			if !m.step() {
				return 0, stUnknown
			}
		}
		return 0, stNo
	}
	// Record rune boundaries: stepping backwards through invalid UTF-8 could
	// disagree with the forward decoding package regexp uses.
	mark := len(m.stack)
	for q := p; q < end; {
		m.stack = append(m.stack, q)
		_, w := utf8.DecodeRune(in[q:])
		q += w
	}
	e, st := 0, stNo
	for k := cnt - 1; k >= n.min; k-- {
		if q := m.stack[mark+k]; m.quick(la, q) {
			e, st = q, stMatch
			break
		}
		if !m.step() {
			st = stUnknown
			break
		}
	}
	m.stack = m.stack[:mark]
	return e, st
}

// classRun returns the length of the longest prefix of s whose bytes are
// all in tbl.
func classRun(tbl *[256]bool, s []byte) int {
	i := 0
	for ; i+4 <= len(s); i += 4 {
		c := s[i : i+4 : i+4]
		if !tbl[c[0]] {
			return i
		}
		if !tbl[c[1]] {
			return i + 1
		}
		if !tbl[c[2]] {
			return i + 2
		}
		if !tbl[c[3]] {
			return i + 3
		}
	}
	for ; i < len(s); i++ {
		if !tbl[s[i]] {
			return i
		}
	}
	return i
}

func (m *machine) repeat(n *node, p int, la *la) (int, status) {
	if n.min == 0 && n.max == 1 {
		// Optional element: its options, then (greedy) the empty option.
		if !n.greedy && m.quick(la, p) {
			return p, stMatch
		}
		e, st := m.try(n.sub, p, la)
		if st != stNo || !n.greedy {
			return e, st
		}
		if m.quick(la, p) {
			return p, stMatch
		}
		return 0, stNo
	}
	cnt, cur := 0, p
	for cnt < n.min {
		e, st := m.eval(n.sub, cur, nil)
		if st != stMatch {
			if st == stNo && (cnt == 0 || n.sub.single) {
				return 0, stNo
			}
			return 0, stUnknown
		}
		cur = e
		cnt++
	}
	if n.greedy {
		for n.max < 0 || cnt < n.max {
			e, st := m.try(n.sub, cur, nil)
			if st == stUnknown {
				return 0, stUnknown
			}
			if st == stNo {
				break
			}
			if e == cur {
				// Empty iterations are where engines disagree; ask RE2.
				return 0, stUnknown
			}
			cur = e
			cnt++
		}
	}
	if m.quick(la, cur) {
		return cur, stMatch
	}
	if n.single {
		return 0, stNo
	}
	return 0, stUnknown
}
