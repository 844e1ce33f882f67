package account

import (
	"fmt"
	"html/template"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"replenish"
	"replenish/customers"
	"replenish/measure"
)

// slotHistory is one supply's part of the inventory history page.
type slotHistory struct {
	Device  customers.Endpoint
	Slot    customers.Slot
	Chart   template.HTML
	Entries []replenish.HistoryEntry
}

// periods are the spans the history page offers, in days.
var periods = []int{7, 30, 90, 365}

// history reads each supply's history over the period the page asks for
// and draws its chart.
func (s *Server) history(r *http.Request, u replenish.User, m *managed) error {
	m.Days = 30
	if d := r.URL.Query().Get("days"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil || !slices.Contains(periods, n) {
			return replenish.FieldError("days", "the period must be 7, 30, 90 or 365 days")
		}
		m.Days = n
	}
	to := s.now().UTC()
	from := to.Add(-time.Duration(m.Days) * 24 * time.Hour)
	for _, d := range m.Page.Devices {
		for _, sl := range d.Slots {
			es, _, err := s.Customers.History(r.Context(), u.CustomerID, d.EndpointID, sl.SlotID,
				customers.HistoryQuery{From: from.Format(time.RFC3339), Limit: customers.HistoryLimit})
			if err != nil {
				return err
			}
			m.History = append(m.History, slotHistory{Device: d, Slot: sl, Entries: es,
				Chart: chart(sl, es, from, to)})
		}
	}
	return nil
}

// The chart's drawing area, in SVG user units.
const (
	chartW, chartH         = 640, 260
	plotL, plotR           = 64, 624
	plotT, plotB           = 18, 206
	chartMaxPoints         = 2000
	chartMinSpanPercentage = 100
)

// chart draws a supply's amount over [from, to] as SVG: a line through
// what the device reported, refills and replacements marked in green,
// orders as dashed lines at the time they were placed.
func chart(sl customers.Slot, es []replenish.HistoryEntry, from, to time.Time) template.HTML {
	type point struct {
		at time.Time
		v  float64
	}
	var pts []point
	var refills, orders []point
	unit := ""
	for i := len(es) - 1; i >= 0; i-- { // oldest first
		e := es[i]
		switch {
		case e.Type == replenish.HistoryOrder && e.Status == replenish.OrderPending:
			orders = append(orders, point{at: e.At})
		case e.Amount == nil:
		case e.Type == replenish.HistoryReading || e.Type == replenish.HistoryConsumption ||
			e.Type == replenish.HistoryReplacement ||
			(e.Type == replenish.HistoryHousehold && sl.SensorType == replenish.SensorUsage):
			p := point{at: e.At, v: *e.Amount}
			if len(pts) > 0 && (e.Type == replenish.HistoryReplacement || p.v > pts[len(pts)-1].v) {
				refills = append(refills, p)
			}
			pts = append(pts, p)
			unit = e.Unit
		}
	}
	if len(pts) > chartMaxPoints {
		pts = pts[len(pts)-chartMaxPoints:]
	}
	maxV := 0.0
	for _, p := range pts {
		maxV = math.Max(maxV, p.v)
	}
	if sl.Level != nil && sl.Level.Type == measure.Percentage {
		maxV, unit = chartMinSpanPercentage, "%"
	}
	if maxV <= 0 {
		maxV = 1
	} else if unit != "%" {
		maxV = niceCeil(maxV * 1.1)
	}
	span := to.Sub(from).Seconds()
	x := func(t time.Time) float64 {
		f := t.Sub(from).Seconds() / span
		return plotL + math.Max(0, math.Min(1, f))*(plotR-plotL)
	}
	y := func(v float64) float64 { return plotB - math.Max(0, math.Min(1, v/maxV))*(plotB-plotT) }

	var b strings.Builder
	id := template.HTMLEscapeString(sl.SlotID)
	desc := fmt.Sprintf("%d readings, %d refills or replacements, %d orders placed between %s and %s.",
		len(pts), len(refills), len(orders), from.Format("2 Jan"), to.Format("2 Jan 2006"))
	if len(pts) > 0 {
		last := pts[len(pts)-1]
		desc += fmt.Sprintf(" The newest amount is %s %s.", num(last.v), unitLabel(unit))
	}
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="chart-%s-t chart-%s-d">`, chartW, chartH, id, id)
	fmt.Fprintf(&b, `<title id="chart-%s-t">%s over the last %d days</title>`, id,
		template.HTMLEscapeString(sl.Name), int(math.Round(span/86400)))
	fmt.Fprintf(&b, `<desc id="chart-%s-d">%s</desc>`, id, template.HTMLEscapeString(desc))
	// Grid and axes.
	for _, f := range []float64{0, 0.5, 1} {
		gy := y(f * maxV)
		fmt.Fprintf(&b, `<line class="grid" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, plotL, plotR, gy, gy)
		fmt.Fprintf(&b, `<text class="axis" x="%d" y="%.1f" text-anchor="end">%s</text>`, plotL-6, gy+4,
			template.HTMLEscapeString(num(f*maxV)+unitSuffix(unit)))
	}
	fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d">%s</text>`, plotL, plotB+22, from.Format("2 Jan"))
	fmt.Fprintf(&b, `<text class="axis" x="%d" y="%d" text-anchor="end">%s</text>`, plotR, plotB+22, to.Format("2 Jan"))
	for _, o := range orders {
		ox := x(o.at)
		fmt.Fprintf(&b, `<line class="order" x1="%.1f" x2="%.1f" y1="%d" y2="%d"/>`, ox, ox, plotT, plotB)
		fmt.Fprintf(&b, `<text class="order-label" x="%.1f" y="%d" text-anchor="middle">order</text>`, ox, plotT-4)
	}
	if len(pts) > 0 {
		b.WriteString(`<polyline class="amount" points="`)
		for i, p := range pts {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%.1f,%.1f", x(p.at), y(p.v))
		}
		b.WriteString(`"/>`)
		if len(pts) <= 200 {
			for _, p := range pts {
				fmt.Fprintf(&b, `<circle class="reading" cx="%.1f" cy="%.1f" r="2.5"/>`, x(p.at), y(p.v))
			}
		}
	} else {
		fmt.Fprintf(&b, `<text class="empty" x="%d" y="%d" text-anchor="middle">No readings in this period</text>`,
			(plotL+plotR)/2, (plotT+plotB)/2)
	}
	for _, p := range refills {
		px, py := x(p.at), y(p.v)
		fmt.Fprintf(&b, `<path class="refill" d="M%.1f %.1f l6 10 h-12 z"/>`, px, py-14)
	}
	// Legend.
	ly := chartH - 14
	fmt.Fprintf(&b, `<line class="amount" x1="%d" x2="%d" y1="%d" y2="%d"/><text class="axis" x="%d" y="%d">amount</text>`,
		plotL, plotL+18, ly-4, ly-4, plotL+22, ly)
	fmt.Fprintf(&b, `<path class="refill" d="M%d %d l6 10 h-12 z"/><text class="axis" x="%d" y="%d">refill or new part</text>`,
		plotL+110, ly-12, plotL+122, ly)
	fmt.Fprintf(&b, `<line class="order" x1="%d" x2="%d" y1="%d" y2="%d"/><text class="axis" x="%d" y="%d">order placed</text>`,
		plotL+330, plotL+330, ly-12, ly+2, plotL+338, ly)
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten.
func niceCeil(v float64) float64 {
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= v {
			return m * p
		}
	}
	return 10 * p
}

// num shows a number without needless decimals.
func num(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

func unitSuffix(unit string) string {
	if unit == "%" {
		return " %"
	}
	return ""
}

// unitLabel names a unit as customers read it.
func unitLabel(unit string) string {
	switch unit {
	case "%", "percent":
		return "%"
	case "count":
		return "units"
	}
	return strings.ToLower(strings.ReplaceAll(unit, "_", " "))
}
