package evaluation

import (
	"strings"
	"testing"
)

func small() Scenario {
	sc := Default()
	sc.Slots, sc.Days = 300, 180
	return sc
}

// TestDeterministic: the same seed gives the same figures, whatever the
// order in which the cores finish; another seed gives others.
func TestDeterministic(t *testing.T) {
	sc := small()
	a, b := Run(sc, sc.Policies(), nil), Run(sc, sc.Policies(), nil)
	if a.Table() != b.Table() || a.PatternTables() != b.PatternTables() {
		t.Fatalf("two runs of seed %d differ:\n%s\n%s", sc.Seed, a.Table(), b.Table())
	}
	sc.Seed++
	if c := Run(sc, sc.Policies(), nil); c.Table() == a.Table() {
		t.Error("seeds 1 and 2 give the same table")
	}
}

// TestPolicies: every slot-day is counted for every policy; no policy
// both runs out less and holds less than the oracle; the forecast runs
// out far less often than Dash's threshold.
func TestPolicies(t *testing.T) {
	sc := small()
	ps := sc.Policies()
	res := Run(sc, ps, nil)
	for i, p := range ps {
		o := res.Total[i]
		if o.SlotDays != sc.Slots*sc.Days {
			t.Errorf("%s: %d slot-days, want %d", p.Name, o.SlotDays, sc.Slots*sc.Days)
		}
		if o.Orders == 0 || o.OnHand <= 0 {
			t.Errorf("%s: %d orders, %g on hand: nothing happened", p.Name, o.Orders, o.OnHand)
		}
	}
	oracle := res.Total[len(ps)-1]
	forecast := res.Total[len(sc.Thresholds)]
	for i, p := range ps[:len(ps)-1] {
		o := res.Total[i]
		if o.StockoutShare() < oracle.StockoutShare() && o.MeanOnHand() < oracle.MeanOnHand() {
			t.Errorf("%s (%.3f %%, %.3f) beats the oracle (%.3f %%, %.3f)", p.Name,
				100*o.StockoutShare(), o.MeanOnHand(), 100*oracle.StockoutShare(), oracle.MeanOnHand())
		}
	}
	for i := range sc.Thresholds {
		if o := res.Total[i]; o.StockoutShare() < 5*forecast.StockoutShare() {
			t.Errorf("%s runs out on %.3f %% of slot-days, forecast on %.3f %%: want at least five times as often",
				ps[i].Name, 100*o.StockoutShare(), 100*forecast.StockoutShare())
		}
	}
	if !strings.Contains(res.Table(), "| oracle |") || !strings.Contains(res.PatternTables(), "bursty:") {
		t.Errorf("tables miss rows:\n%s%s", res.Table(), res.PatternTables())
	}
}

func TestCheck(t *testing.T) {
	for _, c := range []struct {
		change func(*Scenario)
		flag   string
	}{
		{func(s *Scenario) { s.Slots = 0 }, "--slots"},
		{func(s *Scenario) { s.MaxLife = 1 }, "--max-life"},
		{func(s *Scenario) { s.Missed = 1 }, "--missed"},
		{func(s *Scenario) { s.LeadSpread = -0.1 }, "--lead-spread"},
		{func(s *Scenario) { s.ServiceLevel = 99.95 }, "--service-level"},
		{func(s *Scenario) { s.Thresholds = []float64{0} }, "--thresholds"},
	} {
		sc := Default()
		c.change(&sc)
		if err := sc.Check(); err == nil || !strings.Contains(err.Error(), c.flag) {
			t.Errorf("Check = %v, want an error naming %s", err, c.flag)
		}
	}
	if err := Default().Check(); err != nil {
		t.Errorf("the default scenario: %v", err)
	}
}
