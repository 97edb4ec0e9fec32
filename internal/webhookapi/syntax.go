package webhookapi

// syntaxError describes the first syntax error in data the way Google's JSON
// parser does (protobuf util/internal/json_stream_parser.cc; docs/google-chat.md §2.1):
//
//	Unexpected token.
//	Test message content
//	^
//
// the message, then up to 20 bytes either side of the error and a caret
// under it. At the end of the input Google's streaming parser has no context
// left and shows an empty line: "Unexpected end of string. Expected , or }
// after key:value pair.\n\n^" (observed on other Google APIs and in
// grpc-httpjson-transcoding's tests).
//
// It is called only after encoding/json refused data, and follows RFC 8259.
// Google's parser is more lenient (single-quoted strings and bare keys);
// such bodies are refused here. ok is false when data is valid JSON.
func syntaxError(data []byte) (msg string, ok bool) {
	s := scanner{data: data}
	s.value(0)
	if s.msg == "" {
		s.skipSpace()
		if s.pos < len(s.data) {
			s.fail("Parsing terminated before end of input.")
		}
	}
	if s.msg == "" {
		return "", false
	}
	if s.eof {
		return "Unexpected end of string. " + s.msg + "\n\n^", true
	}
	begin := max(s.pos-20, 0)
	end := min(s.pos+20, len(data))
	// Guess: the window is widened to whole UTF-8 characters so that the
	// message stays valid UTF-8; Google cuts at bytes.
	for begin > 0 && data[begin]&0xC0 == 0x80 {
		begin--
	}
	for end < len(data) && data[end]&0xC0 == 0x80 {
		end++
	}
	caret := make([]byte, s.pos-begin+1)
	for i := range caret {
		caret[i] = ' '
	}
	caret[len(caret)-1] = '^'
	return s.msg + "\n" + string(data[begin:end]) + "\n" + string(caret), true
}

// maxDepth is Google's parser's recursion limit.
const maxDepth = 100

type scanner struct {
	data []byte
	pos  int
	msg  string // the first error
	eof  bool   // the error is the end of the input
}

func (s *scanner) fail(msg string) {
	if s.msg == "" {
		s.msg = msg
	}
}

// unknown reports msg at the end of the input, or at a token that is not one.
func (s *scanner) unknown(msg string) {
	if s.pos >= len(s.data) {
		s.eof = true
	}
	s.fail(msg)
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) value(depth int) {
	s.skipSpace()
	if s.pos >= len(s.data) {
		s.unknown("Expected a value.")
		return
	}
	switch c := s.data[s.pos]; {
	case c == '{':
		s.object(depth + 1)
	case c == '[':
		s.array(depth + 1)
	case c == '"':
		s.str()
	case c == '-' || '0' <= c && c <= '9':
		s.number()
	case s.literal("true"), s.literal("false"), s.literal("null"):
	case c == '_' || c == '$' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		// A bare word: Google's parser takes it for a key, out of place.
		s.fail("Unexpected token.")
	default:
		s.fail("Expected a value.")
	}
}

func (s *scanner) literal(word string) bool {
	if len(s.data)-s.pos >= len(word) && string(s.data[s.pos:s.pos+len(word)]) == word {
		s.pos += len(word)
		return true
	}
	return false
}

func (s *scanner) object(depth int) {
	if depth > maxDepth {
		s.fail("Message too deep. Max recursion depth reached.")
		return
	}
	s.pos++ // {
	s.skipSpace()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return
	}
	for {
		s.skipSpace()
		if s.pos >= len(s.data) {
			s.unknown("Expected an object key or }.")
			return
		}
		if s.data[s.pos] != '"' {
			s.fail("Expected an object key or }.")
			return
		}
		if s.str(); s.msg != "" {
			return
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			s.unknown("Expected : between key:value pair.")
			return
		}
		if s.data[s.pos] != ':' {
			s.fail("Expected : between key:value pair.")
			return
		}
		s.pos++
		if s.value(depth); s.msg != "" {
			return
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			s.unknown("Expected , or } after key:value pair.")
			return
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return
		default:
			s.fail("Expected , or } after key:value pair.")
			return
		}
	}
}

func (s *scanner) array(depth int) {
	if depth > maxDepth {
		s.fail("Message too deep. Max recursion depth reached.")
		return
	}
	s.pos++ // [
	s.skipSpace()
	if s.pos >= len(s.data) {
		s.unknown("Expected a value or ] within an array.")
		return
	}
	if s.data[s.pos] == ']' {
		s.pos++
		return
	}
	for {
		if s.value(depth); s.msg != "" {
			return
		}
		s.skipSpace()
		if s.pos >= len(s.data) {
			s.unknown("Expected , or ] after array value.")
			return
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return
		default:
			s.fail("Expected , or ] after array value.")
			return
		}
	}
}

func (s *scanner) str() {
	s.pos++ // "
	for s.pos < len(s.data) {
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return
		case c == '\\':
			s.pos++
			if s.pos >= len(s.data) {
				break
			}
			switch s.data[s.pos] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.pos++
			case 'u':
				s.pos++
				for i := 0; i < 4; i++ {
					if s.pos >= len(s.data) {
						s.unknown("Illegal hex string.")
						return
					}
					if !isHex(s.data[s.pos]) {
						s.fail("Illegal hex string.")
						return
					}
					s.pos++
				}
			default:
				s.fail("Invalid escape sequence.")
				return
			}
		case c < 0x20:
			// Guess: Google's parser may take raw control characters in
			// strings; RFC 8259 does not.
			s.fail("Invalid control character in string.")
			return
		default:
			s.pos++
		}
	}
	s.unknown("Closing quote expected in string.")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func (s *scanner) number() {
	start := s.pos
	if s.data[s.pos] == '-' {
		s.pos++
	}
	digits := func() int {
		n := 0
		for s.pos < len(s.data) && '0' <= s.data[s.pos] && s.data[s.pos] <= '9' {
			s.pos++
			n++
		}
		return n
	}
	bad := func() {
		s.pos = start
		s.fail("Unable to parse number.")
	}
	if s.pos < len(s.data) && s.data[s.pos] == '0' {
		s.pos++
	} else if digits() == 0 {
		bad()
		return
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if digits() == 0 {
			bad()
			return
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if digits() == 0 {
			bad()
			return
		}
	}
}
