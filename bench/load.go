// Package bench measures how fast the event gateway takes ChangeReports:
// a load generator over real HTTP connections, a bare server that only
// decodes the same JSON (the ceiling any handler can reach here), and bulk
// seeding of a database into the service's own schema.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"replenish/gateway"
	"replenish/web"
)

// Load is one measurement: conns connections, each sending one
// ChangeReport at a time to url + "/v3/events" for the devices in turn.
type Load struct {
	// URLs are the instances of the service, taking the requests in turn.
	URLs      []string
	Devices   []Device
	Instances []string // the sensor instances the devices have
	Conns     int
	Warmup    time.Duration // sent but not counted
	Duration  time.Duration // counted
	// RunID makes the message IDs of this run new to the service.
	RunID string
}

// Result is what a Load measured: events answered 202 within the counted
// window, and their latencies from sending the request to reading the
// answer.
type Result struct {
	Events     int
	Failed     int
	FirstError string
	Elapsed    time.Duration
	P50, P90   time.Duration
	P99, Max   time.Duration
	// CPU is the time the whole process spent on the processor during the
	// counted window: the load generator and the server together.
	CPU time.Duration
}

// Rate is events per second.
func (r Result) Rate() float64 { return float64(r.Events) / r.Elapsed.Seconds() }

// CPUPerEvent is the process's processor time per event answered.
func (r Result) CPUPerEvent() time.Duration {
	if r.Events == 0 {
		return 0
	}
	return r.CPU / time.Duration(r.Events)
}

// Cores is how many of the machine's processors the process kept busy on
// average during the counted window.
func (r Result) Cores() float64 { return r.CPU.Seconds() / r.Elapsed.Seconds() }

// Run sends reports until the warm-up and the counted window have passed.
func Run(ctx context.Context, l Load) (Result, error) {
	if len(l.URLs) == 0 || len(l.Devices) == 0 || len(l.Instances) == 0 || l.Conns < 1 {
		return Result{}, fmt.Errorf("bench: a load needs a URL, devices, instances and at least one connection")
	}
	client := &http.Client{Transport: &http.Transport{
		MaxConnsPerHost: l.Conns, MaxIdleConnsPerHost: l.Conns, DisableCompression: true,
	}}
	defer client.CloseIdleConnections()

	var seq atomic.Int64
	start := time.Now()
	from, until := start.Add(l.Warmup), start.Add(l.Warmup+l.Duration)
	var mu sync.Mutex
	var all []time.Duration
	var failed int
	var firstErr string
	var wg sync.WaitGroup
	var cpu time.Duration
	wg.Go(func() { cpu = cpuBetween(ctx, from, until) })
	for range l.Conns {
		wg.Go(func() {
			var lat []time.Duration
			var fails int
			var fail string
			var buf []byte
			for ctx.Err() == nil {
				n := seq.Add(1) - 1
				buf = l.report(buf[:0], n)
				sent := time.Now()
				if !sent.Before(until) {
					break
				}
				err := post(ctx, client, l.URLs[n%int64(len(l.URLs))]+"/v3/events", l.token(n), buf)
				done := time.Now()
				if sent.Before(from) || done.After(until) {
					continue
				}
				if err != nil {
					fails++
					if fail == "" {
						fail = err.Error()
					}
					continue
				}
				lat = append(lat, done.Sub(sent))
			}
			mu.Lock()
			defer mu.Unlock()
			all = append(all, lat...)
			failed += fails
			if firstErr == "" {
				firstErr = fail
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	slices.Sort(all)
	r := Result{Events: len(all), Failed: failed, FirstError: firstErr, Elapsed: l.Duration, CPU: cpu}
	if len(all) > 0 {
		at := func(q float64) time.Duration { return all[min(len(all)-1, int(q*float64(len(all))))] }
		r.P50, r.P90, r.P99, r.Max = at(0.50), at(0.90), at(0.99), all[len(all)-1]
	}
	return r, nil
}

// cpuBetween waits for from and until and returns the processor time the
// process used between them.
func cpuBetween(ctx context.Context, from, until time.Time) time.Duration {
	if !sleepUntil(ctx, from) {
		return 0
	}
	start := ProcessCPU()
	if !sleepUntil(ctx, until) {
		return 0
	}
	return ProcessCPU() - start
}

func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// ProcessCPU is the user and system time the process has used so far.
func ProcessCPU() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func (l Load) token(n int64) string { return l.Devices[n%int64(len(l.Devices))].Token }

// report appends the n-th ChangeReport: device n mod the fleet's size, one
// sensor per pass over the fleet, its level falling a point a pass, and
// sampled now.
func (l Load) report(b []byte, n int64) []byte {
	d := l.Devices[n%int64(len(l.Devices))]
	pass := n / int64(len(l.Devices))
	return AppendReport(b, d, l.Instances[pass%int64(len(l.Instances))], l.RunID+"-"+strconv.FormatInt(n, 10),
		95-pass%90, time.Now())
}

// AppendReport appends a ChangeReport of d's level sensor instance, at
// level percent sampled at, named messageID; a device without a token
// (a CONNECT_KIT device, whose MQTT session is its identity) sends no scope.
func AppendReport(b []byte, d Device, instance, messageID string, level int64, at time.Time) []byte {
	b = append(b, `{"event":{"header":{"namespace":"Alexa","name":"ChangeReport","payloadVersion":"3","messageId":"`...)
	b = append(b, messageID...)
	b = append(b, `"},"endpoint":{`...)
	if d.Token != "" {
		b = append(b, `"scope":{"type":"BearerToken","token":"`...)
		b = append(b, d.Token...)
		b = append(b, `"},`...)
	}
	b = append(b, `"endpointId":"`...)
	b = append(b, d.EndpointID...)
	b = append(b, `"},"payload":{"change":{"cause":{"type":"PERIODIC_POLL"},"properties":[{"namespace":"`...)
	b = append(b, gateway.LevelSensor...)
	b = append(b, `","instance":"`...)
	b = append(b, instance...)
	b = append(b, `","name":"level","value":{"@type":"Percentage","value":`...)
	b = strconv.AppendInt(b, level, 10)
	b = append(b, `},"timeOfSample":"`...)
	b = at.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	b = append(b, `","uncertaintyInMilliseconds":0}]}}},"context":{"properties":[]}}`...)
	return b
}

// Post sends one report to the gateway at baseURL and reads the whole
// answer; anything but 202 is an error.
func Post(ctx context.Context, c *http.Client, baseURL, token string, body []byte) error {
	return post(ctx, c, baseURL+"/v3/events", token, body)
}

// post sends one report and reads the whole answer, so that the
// connection is reused; anything but 202 is an error.
func post(ctx context.Context, c *http.Client, url, token string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	answer, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, answer)
	}
	return nil
}

// Bare answers POST /v3/events with 202 once it has read the body (within
// the gateway's size limit) and decoded it into the gateway's message
// type, as the gateway does; it stores nothing. It is the ceiling: no
// handler that reads the event can be faster on the same machine.
func Bare() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v3/events", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, web.MaxBody))
		if err != nil {
			http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		var msg gateway.Message
		if err := json.NewDecoder(bytes.NewReader(body)).Decode(&msg); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	return mux
}

// Serve serves h on a free port of the loopback interface until ctx ends,
// and returns its base URL.
func Serve(ctx context.Context, h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return "http://" + ln.Addr().String(), nil
}
