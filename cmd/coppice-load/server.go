package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a `coppice serve` child process.
type server struct {
	URL     string
	Metrics string // URL of its Prometheus metrics
	cmd     *exec.Cmd
	done    chan error
	// Started is when the process was started; Ready how long it took
	// from then to the first 200 of /healthz, polled every 5ms.
	Started time.Time
	Ready   time.Duration
	stopped bool
}

// startServer runs binary serve on a free loopback port with db and the
// extra flags, and waits until it answers /healthz. Its base URL is base,
// or its own address when base is empty.
func startServer(ctx context.Context, client *http.Client, binary, db, base, cpuProfile string, logs io.Writer, extra ...string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	metricsAddr := mln.Addr().String()
	mln.Close()
	if base == "" {
		base = "http://" + addr
	}
	args := []string{"serve", "--listen", addr, "--base-url", base, "--db", db,
		"--data", dataDir(db), "--insecure-federation", "--log-level", "warn", "--metrics-listen", metricsAddr,
		// Twenty authors on one host send thousands of posts in seconds:
		// throughput is measured, not the inbox rate limits.
		"--inbox-actor-burst", "1000000", "--inbox-host-burst", "1000000"}
	if cpuProfile != "" {
		args = append(args, "--cpuprofile", cpuProfile)
	}
	args = append(args, extra...)
	cmd := exec.Command(binary, args...)
	cmd.Stdout, cmd.Stderr = logs, logs
	cmd.Env = os.Environ()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	s := &server{URL: "http://" + addr, Metrics: "http://" + metricsAddr + "/metrics", cmd: cmd, done: make(chan error, 1), Started: start}
	go func() { s.done <- cmd.Wait() }()
	deadline := time.NewTimer(60 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("coppice serve exited before it was ready: %v", err)
		case <-deadline.C:
			return nil, errors.Join(errors.New("coppice serve not ready after 60 s"), s.Stop())
		case <-ctx.Done():
			return nil, errors.Join(ctx.Err(), s.Stop())
		case <-tick.C:
			res, err := client.Get(s.URL + "/healthz")
			if err == nil {
				res.Body.Close()
				if res.StatusCode == http.StatusOK {
					s.Ready = time.Since(start)
					return s, nil
				}
			}
		}
	}
}

// Counter reads a counter (or a histogram's _count) without labels from
// the server's metrics.
func (s *server) Counter(client *http.Client, name string) (float64, error) {
	m, err := s.Scrape(client)
	if err != nil {
		return 0, err
	}
	v, ok := m[name]
	if !ok {
		return 0, fmt.Errorf("metrics: no %s", name)
	}
	return v, nil
}

// Scrape reads every sample of the server's metrics at one moment, by
// name and labels as written ("x_bucket{le=\"0.032\"}").
func (s *server) Scrape(client *http.Client) (map[string]float64, error) {
	res, err := client.Get(s.Metrics)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	m := map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m, nil
}

// openServerLog opens the file the server's log is appended to; with no
// path the log is discarded.
func openServerLog(path string) (io.Writer, func(), error) {
	if path == "" {
		return io.Discard, func() {}, nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("server log: %w", err)
	}
	return f, func() { f.Close() }, nil
}

// dataDir is where the servers on db keep uploaded files: next to an
// SQLite file, or under the system's temporary directory for a PostgreSQL
// database (one directory for every process on it, as on one machine).
func dataDir(db string) string {
	if u, err := url.Parse(db); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		return filepath.Join(os.TempDir(), "coppice-load-"+strings.TrimPrefix(u.Path, "/")+"-data")
	}
	return db + "-data"
}

// Stop sends SIGINT (serve drains and writes its CPU profile) and waits.
func (s *server) Stop() error {
	if s.stopped {
		return nil
	}
	s.stopped = true
	if err := s.cmd.Process.Signal(syscall.SIGINT); err != nil {
		return fmt.Errorf("stop coppice serve: %w", err)
	}
	select {
	case err := <-s.done:
		if err != nil {
			return fmt.Errorf("coppice serve: %w", err)
		}
		return nil
	case <-time.After(30 * time.Second):
		return errors.Join(errors.New("coppice serve did not stop in 30 s"), s.cmd.Process.Kill())
	}
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's CPU times: 100 on
// every Linux architecture Go supports.
const clockTicks = 100

// CPU returns the user plus system CPU time the process has used so far,
// from /proc/PID/stat (fields 14 and 15).
func (s *server) CPU() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("server CPU: %w", err)
	}
	// The command name (field 2) may hold spaces; the fields after its
	// closing parenthesis are plain.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, errors.New("server CPU: malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("server CPU: short /proc stat")
	}
	// f[0] is field 3 (state), so fields 14 and 15 are f[11] and f[12].
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("server CPU: %w", err)
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// ioCounts are the I/O counters of /proc/PID/io: bytes passed to write
// and read calls (files and sockets alike, page cache or not) and how
// many calls.
type ioCounts struct {
	wchar, rchar, syscw, syscr int64
}

func (a ioCounts) add(b ioCounts) ioCounts {
	return ioCounts{a.wchar + b.wchar, a.rchar + b.rchar, a.syscw + b.syscw, a.syscr + b.syscr}
}

func (a ioCounts) sub(b ioCounts) ioCounts {
	return ioCounts{a.wchar - b.wchar, a.rchar - b.rchar, a.syscw - b.syscw, a.syscr - b.syscr}
}

// IO returns the process's I/O counters so far, from /proc/PID/io.
func (s *server) IO() (ioCounts, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", s.cmd.Process.Pid))
	if err != nil {
		return ioCounts{}, fmt.Errorf("server I/O: %w", err)
	}
	var n ioCounts
	fields := map[string]*int64{"wchar": &n.wchar, "rchar": &n.rchar, "syscw": &n.syscw, "syscr": &n.syscr}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if p := fields[name]; ok && p != nil {
			if *p, err = strconv.ParseInt(strings.TrimSpace(value), 10, 64); err != nil {
				return ioCounts{}, fmt.Errorf("server I/O: %w", err)
			}
			delete(fields, name)
		}
	}
	if len(fields) > 0 {
		return ioCounts{}, errors.New("server I/O: short /proc io")
	}
	return n, nil
}

// Status returns a kB field of /proc/PID/status, such as VmRSS or VmHWM
// (the peak resident set size).
func (s *server) Status(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("server status: %w", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok && name == field {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("server status: no %s", field)
}

// machineCPU returns the CPU time of the whole machine so far, busy and in
// all (every CPU counted), from the first line of /proc/stat: a run's share
// of busy time says whether the CPUs were the limit.
func machineCPU() (busy, total time.Duration, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, fmt.Errorf("machine CPU: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, errors.New("machine CPU: malformed /proc/stat")
	}
	// user nice system idle iowait irq softirq steal …
	for i, v := range f[1:min(len(f), 9)] { // guest time is in user already
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("machine CPU: %w", err)
		}
		d := time.Duration(n) * time.Second / clockTicks
		total += d
		if i != 3 && i != 4 { // idle, iowait
			busy += d
		}
	}
	return busy, total, nil
}

// machineShare measures the machine between two machineCPU readings.
type machineShare struct{ busy, total time.Duration }

func (m machineShare) String() string {
	if m.total <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.0f%% of all CPUs busy", 100*float64(m.busy)/float64(m.total))
}

// measureMachine starts a measurement; the function it returns ends it.
func measureMachine() func() machineShare {
	b0, t0, err := machineCPU()
	return func() machineShare {
		b1, t1, err1 := machineCPU()
		if err != nil || err1 != nil {
			return machineShare{}
		}
		return machineShare{busy: b1 - b0, total: t1 - t0}
	}
}

// perOp describes the counters per operation (n of them): the WAL and
// checkpoint writes of SQLite show here, as do the responses.
func (a ioCounts) perOp(n int, op string) string {
	f := float64(n)
	return fmt.Sprintf("%.1f KB written in %.1f calls and %.1f KB read in %.1f calls per %s (/proc/PID/io: files and sockets)",
		float64(a.wchar)/1024/f, float64(a.syscw)/f, float64(a.rchar)/1024/f, float64(a.syscr)/f, op)
}
