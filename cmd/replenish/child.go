package main

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os/exec"
	"regexp"
	"replenish/bench"
	"replenish/storage/sqldb"
	"strings"
	"time"
)

// server is "replenish serve" running as a child process, as the crash
// check, the soak and the kill tests run it.
type server struct {
	cmd  *exec.Cmd
	url  string
	mqtt string // the embedded MQTT broker's address
}

// readyLine is what serve logs once it listens.
var readyLine = regexp.MustCompile(`msg="replenish is ready" addr=(\S+) mqtt=(\S*)`)

// listening is where serve listens, as its ready line says.
type listening struct{ addr, mqtt string }

// watchReady reads serve's log to its end, passing on the addresses it
// logs when ready and each error line to logErr.
func watchReady(logs io.Reader, logErr func(line string)) <-chan listening {
	addr := make(chan listening, 1)
	go func() {
		sc := bufio.NewScanner(logs)
		for sc.Scan() {
			if m := readyLine.FindStringSubmatch(sc.Text()); m != nil {
				addr <- listening{m[1], m[2]}
			} else if strings.Contains(sc.Text(), "level=ERROR") {
				logErr(sc.Text())
			}
		}
		io.Copy(io.Discard, logs) // a line too long for the scanner must not block serve
	}()
	return addr
}

// startServer starts the binary at bin serving the database db on a free
// port, without a gateway rate limit (the callers want many events in
// flight), and returns once it answers. Its error log lines go to logErr.
func startServer(bin, db, operatorKey string, logErr func(string), flags ...string) (*server, error) {
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--mqtt-listen", "127.0.0.1:0", "--db", db, "--operator-key", operatorKey,
		"--gateway-rate", "0"}, flags...)...)
	logs, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	addr := watchReady(logs, logErr)
	select {
	case a := <-addr:
		return &server{cmd: cmd, url: "http://" + a.addr, mqtt: a.mqtt}, nil
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("%s serve did not log that it was ready within 30 s", bin)
	}
}

// kill ends the server with SIGKILL, as a crash or the OOM killer would,
// and waits for it to be gone.
func (s *server) kill() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}

// pid is the server's process ID.
func (s *server) pid() int { return s.cmd.Process.Pid }

// autoReorder turns smart reorder on for every slot in the file (seeded
// devices start in NOTIFY), so that low readings place orders.
func autoReorder(ctx context.Context, path string) error {
	db, err := sqldb.OpenRaw(path)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, `UPDATE endpoint_slots SET mode = 'AUTO'`)
	return err
}

// seedChild registers the benchmark's vendor with the child service at
// url, seeds n of its devices (named after runID) into the child's
// database, puts their slots on smart reorder, and opens the database
// for counting afterwards.
func seedChild(ctx context.Context, url, operatorKey, path, runID string, n int) (bench.Fleet, []bench.Device, *sql.DB, error) {
	fleet, err := benchFleet(ctx, url, operatorKey)
	if err != nil {
		return fleet, nil, nil, fmt.Errorf("register the vendor: %w", err)
	}
	devices, err := bench.SeedDevices(ctx, path, runID, fleet, n, time.Now().UTC())
	if err != nil {
		return fleet, nil, nil, err
	}
	if err := autoReorder(ctx, path); err != nil {
		return fleet, nil, nil, err
	}
	db, err := sqldb.OpenRaw(path)
	return fleet, devices, db, err
}
