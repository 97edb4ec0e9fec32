package jsontmpl

import "testing"

// BenchmarkExecute renders each sample payload with its spec: the cost of a
// route per request (decoding, cloning the template set to bind the budget,
// rendering, Check).
func BenchmarkExecute(b *testing.B) {
	for _, ex := range examples {
		tmpl, err := Compile(ex.spec)
		if err != nil {
			b.Fatal(err)
		}
		payload := readFile(b, ex.name+".json")
		b.Run(ex.name, func(b *testing.B) {
			b.SetBytes(int64(len(payload)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tmpl.Execute(payload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCompile compiles the sample specs, as the relay does when it
// loads its configuration.
func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, ex := range examples {
			if _, err := Compile(ex.spec); err != nil {
				b.Fatal(err)
			}
		}
	}
}
