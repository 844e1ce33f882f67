package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"replenish/evaluation"
)

const evaluateAbout = `Compares reorder policies on simulated households, without a server: a
seeded simulation of --slots slots over --days days, each slot starting with
a full device, no spares and no history. Every policy meets the same use,
the same readings and the same delivery times:

  threshold N%     Dash's rule: order after 3 readings at or below N %
  forecast         Replenish's FORECAST policy at --service-level
  lead-time bound  knows the future use, not the lead times
  oracle           knows both: every delivery lands exactly at run-out

THRESHOLD and FORECAST run through the same engine as the server. Use is
steady, weekly, bursty, with holidays, or changes on some day, in equal
shares. The table gives, per policy, the share of slot-days on which use
could not be met, the mean units on hand (device and spares, in
device-fulls) and the orders per slot-year. The same seed gives the same
table. With --markdown, the table replaces the part of that file between
the lines "<!-- evaluate:begin -->" and "<!-- evaluate:end -->".
`

func evaluateCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	sc := evaluation.Default()
	fs := newFlags("evaluate", evaluateAbout, stderr)
	fs.Uint64Var(&sc.Seed, "seed", sc.Seed, "the simulation's random `seed`")
	fs.IntVar(&sc.Slots, "slots", sc.Slots, "how many slots `n`")
	fs.IntVar(&sc.Days, "days", sc.Days, "how many `days` each slot lives")
	fs.Float64Var(&sc.MinLife, "min-life", sc.MinLife, "the fewest `days` a full device lasts")
	fs.Float64Var(&sc.MaxLife, "max-life", sc.MaxLife, "the most `days` a full device lasts")
	fs.Float64Var(&sc.DailyCV, "daily-cv", sc.DailyCV, "the coefficient of `variation` of a day's use")
	fs.Float64Var(&sc.Noise, "sensor-noise", sc.Noise, "the standard deviation of a reading, as a `share` of capacity")
	fs.Float64Var(&sc.Missed, "missed", sc.Missed, "the `share` of days without a reading")
	fs.Float64Var(&sc.MinLead, "min-lead", sc.MinLead, "the shortest mean lead time of a marketplace, in `days`")
	fs.Float64Var(&sc.MaxLead, "max-lead", sc.MaxLead, "the longest mean lead time of a marketplace, in `days`")
	fs.Float64Var(&sc.LeadSpread, "lead-spread", sc.LeadSpread, "each order's lead time's standard deviation, as a `share` of the mean")
	fs.DurationVar(&sc.Window, "window", sc.Window, "the cancellation `window` every order waits out")
	fs.IntVar(&sc.MinPack, "min-pack", sc.MinPack, "the fewest device-fulls `n` in a pack")
	fs.IntVar(&sc.MaxPack, "max-pack", sc.MaxPack, "the most device-fulls `n` in a pack")
	fs.Float64Var(&sc.ServiceLevel, "service-level", sc.ServiceLevel, "FORECAST's service `level`, in per cent")
	fs.Float64Var(&sc.Backstop, "backstop", sc.Backstop, "FORECAST's low threshold, in `per cent` of capacity")
	thresholds := fs.String("thresholds", "10,20,30", "the THRESHOLD policy's `thresholds`, in per cent, comma-separated")
	policy := fs.String("policy", "", "run one `policy` alone: threshold, forecast, bound or oracle (default: all)")
	byPattern := fs.Bool("by-pattern", false, "also print a table per pattern of use")
	markdown := fs.String("markdown", "", "write the table into this Markdown `file`, between its evaluate markers")
	if err := parse(fs, args, getenv); err != nil {
		return err
	}
	sc.Thresholds = nil
	for _, f := range strings.Split(*thresholds, ",") {
		t, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(f), "%")), 64)
		if err != nil {
			return fmt.Errorf("--thresholds: %q is not a number", f)
		}
		sc.Thresholds = append(sc.Thresholds, t)
	}
	if err := sc.Check(); err != nil {
		return err
	}
	policies, err := pick(sc.Policies(), *policy)
	if err != nil {
		return err
	}

	fmt.Fprintf(stderr, "evaluating %d policies on %d slots over %d days\n", len(policies), sc.Slots, sc.Days)
	res := evaluation.Run(sc, policies, func(done int) {
		fmt.Fprintf(stderr, "\r%d of %d slots (%d %%)", done, sc.Slots, 100*done/sc.Slots)
	})
	fmt.Fprintf(stderr, "\rdone in %.1f s%30s\n", res.Elapsed.Seconds(), "")
	fmt.Fprintf(stdout, "%s\n\n%s", sc.Describe(), res.Table())
	if *byPattern {
		fmt.Fprint(stdout, res.PatternTables())
	}
	if *markdown != "" {
		return writeMarkdown(*markdown, sc.Describe()+"\n\n"+res.Table()+"\nBy pattern of use:\n"+res.PatternTables())
	}
	return nil
}

// pick returns the policies that name (a kind, in any case) selects: all
// of them when it is empty.
func pick(all []evaluation.Policy, name string) ([]evaluation.Policy, error) {
	if name == "" {
		return all, nil
	}
	var out []evaluation.Policy
	for _, p := range all {
		if strings.EqualFold(p.Kind, name) {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("--policy: %q is none of threshold, forecast, bound, oracle", name)
	}
	return out, nil
}

// writeMarkdown replaces what lies between the evaluate markers of file
// with text.
func writeMarkdown(file, text string) error {
	const begin, end = "<!-- evaluate:begin -->\n", "<!-- evaluate:end -->"
	raw, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("--markdown: %w", err)
	}
	s := string(raw)
	i, j := strings.Index(s, begin), strings.Index(s, end)
	if i < 0 || j < i {
		return errors.New("--markdown: " + file + " has no lines <!-- evaluate:begin --> and <!-- evaluate:end -->")
	}
	s = s[:i+len(begin)] + text + "\n" + s[j:]
	return os.WriteFile(file, []byte(s), 0o644)
}
