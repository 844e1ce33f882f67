package gateway_test

import (
	"testing"
	"time"

	"replenish/bench"
	"replenish/gateway"
)

// BenchmarkParse measures the validation of the bench command's
// ChangeReport, the gateway's most common event.
func BenchmarkParse(b *testing.B) {
	now := time.Now()
	body := bench.AppendReport(nil, bench.Device{EndpointID: "printer-000042", Token: "Atza|0123456789abcdef0123456789abcdef"},
		"ink-cyan", "4f8a1c3e-2b7d-4e9a-8c1f-0123456789ab", 57, now)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := gateway.Parse(body, now); err != nil {
			b.Fatal(err)
		}
	}
}
