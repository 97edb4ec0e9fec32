package jsontmpl

import (
	"errors"
	"strings"
	"testing"
)

// funcPayload is the payload the function tests run over.
const funcPayload = `{
	"s": "Hello wide World", "u": "a_b", "n": 42, "big": 12345678901234567890, "f": 1.50, "neg": -3,
	"t": true, "no": false, "null": null, "empty": "", "list": ["a", "b", 3], "none": [],
	"obj": {"k": "v", "x-y": {"z": [10, 20]}}, "md": "**hi**",
	"rfc": "2024-05-14T09:51:03+02:00", "gitlab": "2016-08-12 15:23:28 UTC", "kuma": "2024-05-14 07:51:03.157",
	"unix": 1715673063, "secs": 3725, "frac": 0.25
}`

// render compiles src as the thread key, a plain field that escapes
// nothing, and renders it over funcPayload.
func render(t *testing.T, src string) (string, error) {
	t.Helper()
	tmpl, err := Compile(Spec{Text: "x", ThreadKey: src})
	if err != nil {
		return "", err
	}
	r, err := tmpl.Execute([]byte(funcPayload))
	return r.ThreadKey, err
}

func TestFuncs(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		// Values print as written; missing and null print as nothing.
		{`{{ .n }} {{ .big }} {{ .f }} {{ .t }}`, "42 12345678901234567890 1.50 true"},
		{`[{{ .missing }}][{{ .null }}][{{ .null.deeper }}][{{ .missing.a.b }}][{{ .none }}]`, "[][][][][]"},
		{`{{ .list }} {{ .obj.k }}`, `["a","b",3] v`},
		// Text.
		{`{{ trunc 5 .s }}|{{ trunc 100 .s }}|{{ trunc 0 .s }}|{{ trunc .n .s }}`, "Hell…|Hello wide World||Hello wide World"},
		{`{{ trunc 7 .s }}`, "Hello…"}, // no blank before the ellipsis
		{`{{ upper .s }} {{ lower .s }} {{ title "merge request opened" }}`, "HELLO WIDE WORLD hello wide world Merge Request Opened"},
		{`[{{ trim "  x \n" }}]`, "[x]"},
		{`{{ replace "_" " " .u }} {{ .u | replace "_" "-" }}`, "a b a-b"},
		{`{{ split "_" .u }} {{ join ", " .list }} {{ join "+" (split " " .s) }}`, `["a","b"] a, b, 3 Hello+wide+World`},
		{`{{ join ", " .missing }}|{{ split "," .empty }}`, "|"},
		{`{{ contains "wide" .s }} {{ hasPrefix "World" .s }}`, "true false"},
		// Values.
		{`{{ default "none" .missing }} {{ default "none" .empty }} {{ default "none" .none }} {{ default "x" .no }} {{ .n | default 0 }}`, "none none none false 42"},
		{`{{ first .list }} {{ last .list }} [{{ first .none }}] [{{ first .missing }}]`, "a 3 [] []"},
		{`{{ get "obj.x-y.z.1" . }} [{{ get "obj.nope.z" . }}] [{{ get "list.9" . }}]`, "20 [] []"},
		{`{{ json .obj }} {{ json .s }}`, `{"k":"v","x-y":{"z":[10,20]}} "Hello wide World"`},
		{`{{ time "2006-01-02 15:04 MST" .rfc }}|{{ time "RFC3339" .gitlab }}|{{ time "15:04:05.000" .kuma }}|{{ time "DateTime" .unix }}`, "2024-05-14 09:51 +0200|2016-08-12T15:23:28Z|07:51:03.157|2024-05-14 07:51:03"},
		{`[{{ time "RFC3339" .missing }}] {{ time "RFC3339" .s }}`, "[] Hello wide World"},
		{`{{ duration .secs }}|{{ duration .frac }}|{{ duration 60 }}|{{ duration .neg }}|[{{ duration .missing }}]|{{ duration "90" }}|{{ duration "2h30m" }}`, "1h 2m 5s|250ms|1m|-3s|[]|1m 30s|2h 30m"},
		// Comparisons know JSON numbers.
		{`{{ eq .n 42 }} {{ eq .n 42.0 }} {{ eq .n "42" }} {{ eq .f 1.5 }} {{ ne .n 41 }}`, "true true true true true"},
		{`{{ eq .s "x" "Hello wide World" }} {{ eq .missing "" }} {{ eq .missing 0 }} {{ eq .t "true" }} {{ eq .no false }}`, "true true true true true"},
		{`{{ lt .neg 0 }} {{ gt .big 9223372036854775807 }} {{ ge .n 42 }} {{ le "a" "b" }} {{ gt .missing -1 }}`, "true true true true true"},
		{`{{ if eq .n 42 }}yes{{ end }}`, "yes"},
		// Printing.
		{`{{ printf "#%d %05.1f %x %v %s %.3s" .n .f .n .n .big .s }}`, "#42 001.5 2a 42 12345678901234567890 Hel"},
		{`{{ print .n " " .s }}`, "42 Hello wide World"},
		{`{{ urlquery .s }} {{ html "<b>" }}`, "Hello+wide+World &lt;b&gt;"},
		// Markup functions return markup; raw trusts anything.
		{`{{ raw "<b>" }}`, "<b>"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			got, err := render(t, tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got  %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestFuncErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{`{{ .md | raw | trunc 3 }}`, "thread_key: at <trunc 3> (line 1, column 15): trunc: the value"},
		{`{{ .s | raw | upper }}`, "upper: the value is already formatted by md, mdcard, link, escape or raw; apply this function first"},
		{`{{ trunc "x" .s }}`, `trunc: length: want an integer, got a string`},
		{`{{ join "," .obj }}`, "join: want a list, got an object"},
		{`{{ first .s }}`, "first: want a list, got a string"},
		{`{{ eq .obj 1 }}`, "eq: cannot compare an object"},
		{`{{ lt .t .no }}`, "lt: booleans have no order"},
		{`{{ duration .s }}`, `duration: "Hello wide World" is not a number of seconds or a duration`},
		{`{{ printf "%*d" 5 .n }}`, "printf: printf: * widths are not supported"},
		{`{{ printf "%99999d" .n }}`, "printf: printf: width 99999 is more than 1000"},
		{`{{ .s.x }}`, "thread_key: at <.s.x> (line 1, column 5): can't evaluate field x: the value before it is not an object"},
	} {
		t.Run(tc.src, func(t *testing.T) {
			_, err := render(t, tc.src)
			var ps Problems
			if !errors.As(err, &ps) {
				t.Fatalf("err = %v, want Problems", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
		})
	}
}

func TestTitle(t *testing.T) {
	if got, want := title("ready_for_review  now émile"), "Ready_for_review  Now Émile"; got != want {
		t.Errorf("title = %q, want %q", got, want)
	}
}

func TestCheckFormat(t *testing.T) {
	for format, ok := range map[string]bool{
		"%d": true, "%05.2f": true, "%-1000s": true, "%[2]d %[1]s": true, "100%%": true,
		"%1001d": false, "%.1001f": false, "%*d": false, "%.*f": false,
	} {
		if err := checkFormat(format); (err == nil) != ok {
			t.Errorf("checkFormat(%q) = %v, want ok %v", format, err, ok)
		}
	}
}
