package simulator

import (
	"strings"

	"replenish"
	"replenish/gateway"
	"replenish/measure"
)

// Slot is one consumable slot of a simulated device model: what the
// vendor registers for it, and how its devices use it.
type Slot struct {
	SlotID   string // the slot in the model, e.g. "SLOT01"
	Instance string // the sensor instance in discovery, e.g. "InkSensor.Black"
	Name     string // the customer-facing name
	Category string // from the catalog's categories
	// ProductID is the simulated product sold for the slot; Pack is how
	// much one holds, in PackUnit.
	ProductID string
	Pack      float64
	PackUnit  string
	Title     string // the product's title in every marketplace

	Sensor  string       // replenish.SensorLevel, SensorUsage or SensorLevelUsage
	Measure measure.Type // Percentage, Count or Volume
	Unit    measure.Unit // for Volume: the unit the device keeps its level in
	// OtherUnits are units of the same kind the device sometimes reports
	// in instead of Unit, as some firmware does.
	OtherUnits []measure.Unit

	// Full is a new part or a refill, in the slot's measurement: 100 for
	// percentages.
	Full float64
	// StartMin and StartMax bound the level of a new device's first part.
	StartMin, StartMax float64
	// UseMin and UseMax bound a device's use per simulated day of use.
	UseMin, UseMax float64
	// IdleChance is the chance a day passes without use.
	IdleChance float64
	// Threshold is the low threshold the operator assigns, in the slot's
	// measurement; customers refill or replace a while after reaching it.
	Threshold float64

	// ReplenishmentID is filled in when the slot's request is assigned.
	ReplenishmentID string
}

// Interface is the Alexa interface of the slot's sensor.
func (s Slot) Interface() string { return gateway.SensorInterface[s.Sensor] }

// Kind is a simulated device model.
type Kind struct {
	Name         string // the kind, as the --kinds flag names it
	ModelID      string
	ModelName    string // shown to the vendor
	DeviceName   string // shown to customers
	Manufacturer string
	Slots        []Slot
	// ConnectKit makes the model a CONNECT_KIT one: its devices talk to
	// Replenish over MQTT rather than through the vendor's cloud.
	ConnectKit bool
}

// Kinds are the device models a simulated fleet can have: printers with
// level sensors in percent, washing machines measuring detergent by
// volume, coffee machines counting the pods they use, and vacuums whose
// filters and brushes wear out.
var Kinds = []Kind{printer(10, 15, 100, 4, 12), washer, coffeeMachine, vacuum}

// printer is the ink-jet printer: four inks with optical level sensors.
func printer(threshold, startMin, startMax, useMin, useMax float64) Kind {
	ink := func(slot, color string) Slot {
		return Slot{SlotID: slot, Instance: "InkSensor." + color, Name: color + " ink", Category: "INK",
			ProductID: "SIM-INK-" + strings.ToUpper(color), Pack: 1, PackUnit: "Count", Title: color + " ink cartridge (simulated)",
			Sensor: replenish.SensorLevel, Measure: measure.Percentage, Full: 100,
			StartMin: startMin, StartMax: startMax, UseMin: useMin, UseMax: useMax, IdleChance: 0.2, Threshold: threshold}
	}
	return Kind{Name: "printer", ModelID: "sim-printer", ModelName: "Simulated ink-jet printer",
		DeviceName: "Ink-jet printer", Manufacturer: "Simulated Printers",
		Slots: []Slot{ink("SLOT01", "Black"), ink("SLOT02", "Cyan"), ink("SLOT03", "Magenta"), ink("SLOT04", "Yellow")}}
}

// washer keeps detergent and softener in tanks it measures in
// millilitres, and sometimes reports them in litres or US fluid ounces.
var washer = Kind{Name: "washer", ModelID: "sim-washer", ModelName: "Simulated washing machine",
	DeviceName: "Washing machine", Manufacturer: "Simulated Appliances",
	Slots: []Slot{
		{SlotID: "SLOT01", Instance: "DetergentTank", Name: "Detergent", Category: "DETERGENT",
			ProductID: "SIM-DETERGENT-1500", Pack: 1500, PackUnit: "MILLILITER", Title: "Liquid detergent 1.5 l (simulated)",
			Sensor: replenish.SensorLevel, Measure: measure.Volume, Unit: "MILLILITER",
			OtherUnits: []measure.Unit{"LITER", "US_FLUID_OUNCE"}, Full: 1500, StartMin: 300, StartMax: 1500,
			UseMin: 60, UseMax: 150, IdleChance: 0.4, Threshold: 200},
		{SlotID: "SLOT02", Instance: "SoftenerTank", Name: "Softener", Category: "SOFTENER",
			ProductID: "SIM-SOFTENER-1000", Pack: 1000, PackUnit: "MILLILITER", Title: "Fabric softener 1 l (simulated)",
			Sensor: replenish.SensorLevel, Measure: measure.Volume, Unit: "MILLILITER",
			OtherUnits: []measure.Unit{"LITER", "UK_FLUID_OUNCE"}, Full: 1000, StartMin: 200, StartMax: 1000,
			UseMin: 25, UseMax: 70, IdleChance: 0.4, Threshold: 120},
	}}

// coffeeMachine counts the pods it brews (the household keeps the stock)
// and wears out its water filter.
var coffeeMachine = Kind{Name: "coffee", ModelID: "sim-coffee", ModelName: "Simulated pod coffee machine",
	DeviceName: "Coffee machine", Manufacturer: "Simulated Appliances",
	Slots: []Slot{
		{SlotID: "SLOT01", Instance: "PodCounter", Name: "Coffee pods", Category: "COFFEE_PODS",
			ProductID: "SIM-PODS-50", Pack: 50, PackUnit: "Count", Title: "Coffee pods, box of 50 (simulated)",
			Sensor: replenish.SensorUsage, Measure: measure.Count,
			UseMin: 1, UseMax: 6, IdleChance: 0.1, Threshold: 10},
		{SlotID: "SLOT02", Instance: "WaterFilter", Name: "Water filter", Category: "WATER_FILTER",
			ProductID: "SIM-WATER-FILTER", Pack: 1, PackUnit: "Count", Title: "Water filter cartridge (simulated)",
			Sensor: replenish.SensorLevelUsage, Measure: measure.Percentage, Full: 100, StartMin: 20, StartMax: 100,
			UseMin: 1, UseMax: 3, IdleChance: 0.1, Threshold: 10},
	}}

// vacuum wears out its filter and its brush, which the customer replaces.
var vacuum = Kind{Name: "vacuum", ModelID: "sim-vacuum", ModelName: "Simulated robot vacuum",
	DeviceName: "Robot vacuum", Manufacturer: "Simulated Appliances",
	Slots: []Slot{
		{SlotID: "SLOT01", Instance: "Filter", Name: "Filter", Category: "VACUUM_FILTER",
			ProductID: "SIM-VACUUM-FILTER", Pack: 2, PackUnit: "Count", Title: "Vacuum filters, pack of 2 (simulated)",
			Sensor: replenish.SensorLevelUsage, Measure: measure.Percentage, Full: 100, StartMin: 15, StartMax: 100,
			UseMin: 2, UseMax: 6, IdleChance: 0.3, Threshold: 10},
		{SlotID: "SLOT02", Instance: "Brush", Name: "Side brush", Category: "VACUUM_BRUSH",
			ProductID: "SIM-VACUUM-BRUSH", Pack: 1, PackUnit: "Count", Title: "Side brush (simulated)",
			Sensor: replenish.SensorLevelUsage, Measure: measure.Percentage, Full: 100, StartMin: 30, StartMax: 100,
			UseMin: 0.5, UseMax: 2, IdleChance: 0.3, Threshold: 10},
	}}

// KindNamed returns the kind called name.
func KindNamed(name string) (Kind, bool) {
	for _, k := range Kinds {
		if k.Name == name {
			return k, true
		}
	}
	return Kind{}, false
}
