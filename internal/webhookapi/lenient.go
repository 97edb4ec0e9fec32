package webhookapi

import "github.com/gchatkit/gchat/internal/webhookapi/internal/discovery"

// undocumented are the fields Google accepts in a webhook message though
// today's discovery document lacks them. Each names its evidence, with the
// tags of docs/senders.md; a field is added only on evidence that Google
// answers 200 to it, since an unknown field Google refuses must stay
// refused. Config.StrictSchema refuses them all, as the discovery document
// alone would.
var undocumented = []struct {
	typ, name, kind string
	evidence        string
}{
	{
		typ: "Message", name: "previewText", kind: discovery.KindString,
		// Observed: Grafana's Google Chat contact point has sent it in
		// every alert since 2020 (grafana/grafana#27578), a 2022 report
		// shows Google answering 200 to such a request (grafana/grafana#47305),
		// and older Chat API references documented it ("Text for generating
		// preview chips; not displayed to the user").
		evidence: "observed",
	},
}

// addUndocumented adds the undocumented fields to the compiled types, marked
// so that a strict walker refuses them.
func addUndocumented(types map[string]*msgType) {
	for _, u := range undocumented {
		t := types[u.typ]
		if t == nil || t.fields[u.name] != nil {
			continue // gone from the schema, or documented again
		}
		f := &field{json: u.name, proto: snakeCase(u.name), kind: u.kind, undocumented: true}
		t.fields[f.json] = f
		if f.proto != f.json {
			t.fields[f.proto] = f
		}
	}
}
