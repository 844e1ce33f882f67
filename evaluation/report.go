package evaluation

import (
	"fmt"
	"strings"
)

// Table returns the result as a Markdown table: per policy, the share of
// stockout slot-days, the mean units on hand (also against the oracle's),
// and the orders per slot-year.
func (res Result) Table() string {
	return table(res.Policies, res.Total)
}

// PatternTables returns one table per pattern of use.
func (res Result) PatternTables() string {
	var b strings.Builder
	for p := range patterns {
		fmt.Fprintf(&b, "\n%s:\n\n%s", Pattern(p), table(res.Policies, res.ByPattern[p]))
	}
	return b.String()
}

func table(policies []Policy, os []Outcome) string {
	oracle := 0.0
	for i, p := range policies {
		if p.Kind == KindOracle {
			oracle = os[i].MeanOnHand()
		}
	}
	var b strings.Builder
	b.WriteString("| policy | stockout slot-days | mean units on hand | vs oracle | orders per slot-year |\n")
	b.WriteString("|---|---:|---:|---:|---:|\n")
	for i, p := range policies {
		o := os[i]
		vs := "–"
		if oracle > 0 {
			vs = fmt.Sprintf("%.2f×", o.MeanOnHand()/oracle)
		}
		fmt.Fprintf(&b, "| %s | %.3f %% | %.3f | %s | %.2f |\n",
			p.Name, 100*o.StockoutShare(), o.MeanOnHand(), vs, o.OrdersPerYear())
	}
	return b.String()
}

// Describe says what was simulated, in one paragraph.
func (sc Scenario) Describe() string {
	return fmt.Sprintf("%d slots over %d days, seed %d; a full device lasts %g to %g days (log-uniform), "+
		"daily use CV %g; reading noise %g %% of capacity, %g %% of days missed; mean lead times %g to %g days, "+
		"spread %g %% of the mean, after a %g h cancellation window; packs of %d to %d device-fulls; "+
		"service level %g %%, FORECAST's backstop threshold %g %%.",
		sc.Slots, sc.Days, sc.Seed, sc.MinLife, sc.MaxLife, sc.DailyCV, 100*sc.Noise, 100*sc.Missed,
		sc.MinLead, sc.MaxLead, 100*sc.LeadSpread, sc.Window.Hours(), sc.MinPack, sc.MaxPack, sc.ServiceLevel, sc.Backstop)
}
