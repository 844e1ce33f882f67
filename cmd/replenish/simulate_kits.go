package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"replenish/simulator"
)

// kitFleet is a simulation's CONNECT_KIT printers: devices that talk to
// Replenish over MQTT themselves, beside the vendor cloud's fleet.
type kitFleet struct {
	kits  []*simulator.Kit
	stats *simulator.Stats
}

// startKits has the vendor provision n devices of its CONNECT_KIT model
// kind, the customers claim them in turn, and connects each to broker.
func startKits(ctx context.Context, api *simulator.Client, v *simulator.Vendor, kind *simulator.Kind, n int, broker string,
	people []*simulator.Customer, seed uint64, out io.Writer) (*kitFleet, error) {
	serials := make([]string, n)
	for i := range serials {
		serials[i] = fmt.Sprintf("KIT-%05d", i+1)
	}
	ps, err := simulator.ProvisionKits(ctx, api, v, kind.ModelID, serials)
	if err != nil {
		return nil, fmt.Errorf("provisioning the kits: %w", err)
	}
	f := &kitFleet{stats: simulator.NewStats()}
	var claimers []*simulator.Customer
	for _, cu := range people {
		if cu != nil {
			claimers = append(claimers, cu)
		}
	}
	if len(claimers) == 0 {
		return nil, fmt.Errorf("no customer to claim the kits")
	}
	r := rand.New(rand.NewPCG(seed^0x6b697473, seed))
	for i, p := range ps {
		cu := claimers[i%len(claimers)]
		name := fmt.Sprintf("%s's connected printer %d", cu.Name, i/len(claimers)+1)
		if err := simulator.ClaimKit(ctx, api, cu, p.ClaimCode, name); err != nil {
			f.close()
			return nil, fmt.Errorf("%s claiming kit %s: %w", cu.Name, p.SerialNumber, err)
		}
		k := simulator.NewKit(simulator.NewDevice(kind, p.DeviceID, name, rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))), p.Password, f.stats)
		if err := k.Connect(ctx, broker); err != nil {
			f.close()
			return nil, fmt.Errorf("--mqtt %s: %w (is Replenish's MQTT broker there? serve's --mqtt-listen says where it listens)", broker, err)
		}
		f.kits = append(f.kits, k)
		if len(ps) <= 10 {
			fmt.Fprintf(out, "  kit      %-16s %s, claimed by %s, over MQTT at %s\n", p.SerialNumber, p.DeviceID, cu.Name, broker)
		}
	}
	return f, nil
}

// run plays days simulated days of the kits, each day starting when the
// cloud fleet's does (speed simulated seconds per real second): every kit
// uses its supplies, then sends its reports, each until acked.
func (f *kitFleet) run(ctx context.Context, days int, speed float64, concurrency int) {
	day := time.Duration(float64(24*time.Hour) / speed)
	start := time.Now()
	for n := 0; n <= days; n++ {
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(start.Add(time.Duration(n) * day))):
		}
		jobs := make(chan *simulator.Kit)
		var wg sync.WaitGroup
		for range max(1, concurrency) {
			wg.Go(func() {
				for k := range jobs {
					k.Day(ctx, n > 0) // refusals and lost acks are counted
				}
			})
		}
		for _, k := range f.kits {
			select {
			case jobs <- k:
			case <-ctx.Done():
			}
		}
		close(jobs)
		wg.Wait()
		f.stats.Day(n)
	}
}

// notices counts the low-supply notices the kits' displays received.
func (f *kitFleet) notices() int {
	n := 0
	for _, k := range f.kits {
		n += len(k.Notices())
	}
	return n
}

func (f *kitFleet) close() {
	for _, k := range f.kits {
		k.Close()
	}
}
