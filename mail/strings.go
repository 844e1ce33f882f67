package mail

import (
	"fmt"
	"strings"
	"time"
)

// texts is every sentence a message uses, by language. A new language is
// one more entry with the same keys; a missing key falls back to English.
var texts = map[string]map[string]string{
	"en": {
		"hello":           "Hello %s,",
		"hello.noname":    "Hello,",
		"low.subject":     "%[1]s on %[2]s is running low",
		"low.lead":        "%[1]s on %[2]s is running low.",
		"low.auto.at":     "Smart reorder will order a refill on %s. We'll e-mail you when it does, and you can still cancel then.",
		"low.auto":        "Smart reorder will order a refill for you. We'll e-mail you when it does, and you can still cancel then.",
		"low.held":        "Smart reorder could not order this time. Open the app to see why, then order yourself or choose the product again.",
		"low.notify":      "Order a refill when it suits you, or turn on smart reorder and we'll order for you next time.",
		"low.off":         "Order a refill when it suits you.",
		"placed.subject":  "Order placed: %s",
		"placed.lead":     "We placed an order for %[1]s on %[2]s.",
		"placed.next":     "Changed your mind? You can cancel until %s.",
		"placed.cancel":   "Cancel the order",
		"shipped.subject": "On its way: %s",
		"shipped.lead":    "Your order for %[1]s on %[2]s has shipped.",
		"shipped.next":    "We'll let you know when it arrives.",
		"delivered.subj":  "Delivered: %s",
		"delivered.lead":  "Your order for %[1]s on %[2]s has been delivered.",
		"delivered.next":  "Once the new supply is in place, %s reports its level by itself.",
		"cancelled.subj":  "Order cancelled: %s",
		"cancelled.lead":  "Your order for %[1]s on %[2]s was cancelled.",
		"cancelled.next":  "If you still need a refill, you can order again in the app.",
		"silent.subject":  "%s has stopped reporting",
		"silent.lead":     "We haven't heard from %[1]s for a while, so we can't tell how much %[2]s has left.",
		"silent.lead.dev": "We haven't heard from %s for a while.",
		"silent.next":     "Please check that it is switched on and connected to the internet.",
		"label.left":      "Left",
		"label.runout":    "Runs out around",
		"label.product":   "Product",
		"label.quantity":  "Quantity",
		"label.price":     "Price",
		"label.order":     "Order",
		"label.tracking":  "Tracking",
		"label.reason":    "Why",
		"footer":          "You get this e-mail because e-mail notifications are on for your Replenish devices.",
		"footer.settings": "Change your notification settings",
		"date":            "2 January 2006",
		"datetime":        "2 January 2006, 15:04 MST",
		"decimal":         ".",
	},
	"de": {
		"hello":           "Hallo %s,",
		"hello.noname":    "Hallo,",
		"low.subject":     "%[1]s in %[2]s geht zur Neige",
		"low.lead":        "%[1]s in %[2]s geht zur Neige.",
		"low.auto.at":     "Smart Reorder bestellt Nachschub am %s. Wir schreiben Ihnen dann, und Sie können die Bestellung noch stornieren.",
		"low.auto":        "Smart Reorder bestellt für Sie Nachschub. Wir schreiben Ihnen dann, und Sie können die Bestellung noch stornieren.",
		"low.held":        "Smart Reorder konnte diesmal nicht bestellen. In der App sehen Sie, warum; bestellen Sie dann selbst oder wählen Sie das Produkt erneut.",
		"low.notify":      "Bestellen Sie Nachschub, wann es Ihnen passt – oder schalten Sie Smart Reorder ein, dann bestellen wir beim nächsten Mal für Sie.",
		"low.off":         "Bestellen Sie Nachschub, wann es Ihnen passt.",
		"placed.subject":  "Bestellung aufgegeben: %s",
		"placed.lead":     "Wir haben für %[1]s in %[2]s bestellt.",
		"placed.next":     "Doch nicht? Sie können bis %s stornieren.",
		"placed.cancel":   "Bestellung stornieren",
		"shipped.subject": "Unterwegs: %s",
		"shipped.lead":    "Ihre Bestellung für %[1]s in %[2]s wurde verschickt.",
		"shipped.next":    "Wir sagen Bescheid, wenn sie ankommt.",
		"delivered.subj":  "Zugestellt: %s",
		"delivered.lead":  "Ihre Bestellung für %[1]s in %[2]s wurde zugestellt.",
		"delivered.next":  "Sobald der Nachschub eingesetzt ist, meldet %s den Füllstand von selbst.",
		"cancelled.subj":  "Bestellung storniert: %s",
		"cancelled.lead":  "Ihre Bestellung für %[1]s in %[2]s wurde storniert.",
		"cancelled.next":  "Wenn Sie weiterhin Nachschub brauchen, können Sie in der App erneut bestellen.",
		"silent.subject":  "%s meldet sich nicht mehr",
		"silent.lead":     "Wir haben länger nichts von %[1]s gehört und wissen daher nicht, wie viel %[2]s noch übrig ist.",
		"silent.lead.dev": "Wir haben länger nichts von %s gehört.",
		"silent.next":     "Bitte prüfen Sie, ob das Gerät eingeschaltet und mit dem Internet verbunden ist.",
		"label.left":      "Übrig",
		"label.runout":    "Leer etwa am",
		"label.product":   "Produkt",
		"label.quantity":  "Menge",
		"label.price":     "Preis",
		"label.order":     "Bestellung",
		"label.tracking":  "Sendungsverfolgung",
		"label.reason":    "Grund",
		"footer":          "Sie erhalten diese E-Mail, weil E-Mail-Benachrichtigungen für Ihre Replenish-Geräte eingeschaltet sind.",
		"footer.settings": "Benachrichtigungen ändern",
		"date":            "2. January 2006",
		"datetime":        "2. January 2006, 15:04 MST",
		"decimal":         ",",
		"January":         "Januar",
		"February":        "Februar",
		"March":           "März",
		"May":             "Mai",
		"June":            "Juni",
		"July":            "Juli",
		"October":         "Oktober",
		"December":        "Dezember",
	},
}

// language picks the table for a locale such as "de-DE", "de_AT" or "DE":
// its language where there is a table, English otherwise.
func language(locale string) string {
	lang, _, _ := strings.Cut(strings.ReplaceAll(locale, "_", "-"), "-")
	lang = strings.ToLower(strings.TrimSpace(lang))
	if _, ok := texts[lang]; ok {
		return lang
	}
	return "en"
}

// tr is one language's strings.
type tr struct {
	lang string
	loc  *time.Location
}

func (t tr) s(key string) string {
	if v, ok := texts[t.lang][key]; ok {
		return v
	}
	return texts["en"][key]
}

func (t tr) f(key string, args ...any) string {
	return fmt.Sprintf(t.s(key), args...)
}

// when formats a moment with layout key "date" or "datetime", month names
// translated.
func (t tr) when(key string, at time.Time) string {
	at = at.In(t.loc)
	s := at.Format(t.s(key))
	month := at.Month().String()
	if name, ok := texts[t.lang][month]; ok {
		s = strings.Replace(s, month, name, 1)
	}
	return s
}

// price shows a decimal price ("12.99") with the language's decimal mark
// and the currency after it.
func (t tr) price(price, currency string) string {
	if price == "" {
		return ""
	}
	if d := t.s("decimal"); d != "." && strings.Count(price, ".") == 1 && !strings.Contains(price, ",") {
		price = strings.Replace(price, ".", d, 1)
	}
	return strings.TrimSpace(price + " " + currency)
}
