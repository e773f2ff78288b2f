package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// server is a `coppice serve` child process.
type server struct {
	URL  string
	cmd  *exec.Cmd
	done chan error
	// Started is when the process was started; Ready how long it took
	// from then to the first 200 of /healthz, polled every 5ms.
	Started time.Time
	Ready   time.Duration
}

// startServer runs binary serve on a free loopback port with db and the
// extra flags, and waits until it answers /healthz.
func startServer(ctx context.Context, client *http.Client, binary, db, cpuProfile string, logs io.Writer, extra ...string) (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	ln.Close()
	args := []string{"serve", "--listen", addr, "--base-url", "http://" + addr, "--db", db,
		"--data", db + "-data", "--insecure-federation", "--log-level", "warn",
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
	s := &server{URL: "http://" + addr, cmd: cmd, done: make(chan error, 1), Started: start}
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

// Stop sends SIGINT (serve drains and writes its CPU profile) and waits.
func (s *server) Stop() error {
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
