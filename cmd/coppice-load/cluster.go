package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/coppice-dev/coppice/storage"
)

// cluster is one instance served by one or more `coppice serve`
// processes on one database. With one process its base URL is that
// process's address, as before; with more, every process has the base URL
// of a small round-robin front that this program runs, as an institution
// runs a load balancer before its processes.
//
// The measured requests do not pass through the front: the load sends
// each to the next process's own address with the Host header of the base
// URL (which the signatures cover), as a layer-4 balancer would, so the
// front's CPU is not counted against the servers. The front carries the
// rest: the followers' Follows and anything a peer fetches by the base
// URL.
type cluster struct {
	URL     string // the base URL of the instance
	servers []*server
	front   *http.Server
	next    atomic.Uint64
}

// startCluster starts n processes of binary serve on db, one after the
// other so each is ready (and has run the migrations) before the next
// starts. With a CPU profile, process i writes it to cpuProfile.i.
func startCluster(ctx context.Context, client *http.Client, n int, binary, db, cpuProfile string, logs io.Writer, extra ...string) (*cluster, error) {
	if n > 1 && !storage.IsPostgres(db) {
		return nil, errors.New("--processes > 1 needs a postgres:// --db: an SQLite file is served by one process")
	}
	c := &cluster{}
	if n > 1 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("front: %w", err)
		}
		c.URL = "http://" + ln.Addr().String()
		proxy := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(c.pick())
			r.Out.Host = r.In.Host // the signatures cover the public host
		}}
		c.front = &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
		go func() { _ = c.front.Serve(ln) }()
	}
	for i := range n {
		profile := cpuProfile
		if profile != "" && n > 1 {
			profile = fmt.Sprintf("%s.%d", cpuProfile, i)
		}
		s, err := startServer(ctx, client, binary, db, c.URL, profile, logs, extra...)
		if err != nil {
			return nil, errors.Join(err, c.Stop())
		}
		c.servers = append(c.servers, s)
	}
	if n == 1 {
		c.URL = c.servers[0].URL
	}
	return c, nil
}

// pick returns the next process's address, in turn.
func (c *cluster) pick() *url.URL {
	s := c.servers[(c.next.Add(1)-1)%uint64(len(c.servers))]
	u, _ := url.Parse(s.URL)
	return u
}

// route returns the URL to send a request for path to, and the Host
// header it must carry: the i-th process in turn, addressed directly.
func (c *cluster) route(i int, path string) (target, host string) {
	s := c.servers[i%len(c.servers)]
	if len(c.servers) == 1 {
		return s.URL + path, ""
	}
	return s.URL + path, strings.TrimPrefix(c.URL, "http://")
}

// Describe names the processes for a report.
func (c *cluster) Describe() string {
	var pids []string
	for _, s := range c.servers {
		pids = append(pids, fmt.Sprint(s.cmd.Process.Pid))
	}
	if len(c.servers) == 1 {
		return fmt.Sprintf("server %s (pid %s)", c.URL, pids[0])
	}
	return fmt.Sprintf("%d server processes (pids %s) behind %s", len(c.servers), strings.Join(pids, ", "), c.URL)
}

// CPU is the CPU time all the processes have used so far.
func (c *cluster) CPU() (time.Duration, error) {
	var sum time.Duration
	for _, s := range c.servers {
		d, err := s.CPU()
		if err != nil {
			return 0, err
		}
		sum += d
	}
	return sum, nil
}

// IO is what all the processes have written and read so far, summed.
func (c *cluster) IO() (ioCounts, error) {
	var sum ioCounts
	for _, s := range c.servers {
		n, err := s.IO()
		if err != nil {
			return ioCounts{}, err
		}
		sum = sum.add(n)
	}
	return sum, nil
}

// Counter sums a counter of every process's metrics.
func (c *cluster) Counter(client *http.Client, name string) (float64, error) {
	var sum float64
	for _, s := range c.servers {
		v, err := s.Counter(client, name)
		if err != nil {
			return 0, err
		}
		sum += v
	}
	return sum, nil
}

// writeStats are the processes' write transactions so far: how many were
// committed or rolled back, how many of them PostgreSQL made run again,
// the seconds they were open, and how many were open over 32 ms.
type writeStats struct {
	count, retries, seconds, slow float64
}

func (w writeStats) sub(v writeStats) writeStats {
	return writeStats{w.count - v.count, w.retries - v.retries, w.seconds - v.seconds, w.slow - v.slow}
}

// writes reads the processes' writeStats, each process's in one scrape.
func (c *cluster) writes(client *http.Client) (writeStats, error) {
	const tx = "coppice_storage_write_transaction_seconds"
	var w writeStats
	for _, s := range c.servers {
		m, err := s.Scrape(client)
		if err != nil {
			return w, err
		}
		count, ok := m[tx+"_count"]
		if !ok {
			return w, fmt.Errorf("metrics: no %s_count", tx)
		}
		w.count += count
		w.seconds += m[tx+"_sum"]
		w.slow += count - m[tx+`_bucket{le="0.032"}`]
		w.retries += m["coppice_storage_write_retries_total"]
	}
	return w, nil
}

// PeakRSS is the largest peak resident set size (VmHWM, kB) of the
// processes.
func (c *cluster) PeakRSS() (int64, error) {
	var peak int64
	for _, s := range c.servers {
		kb, err := s.Status("VmHWM")
		if err != nil {
			return 0, err
		}
		peak = max(peak, kb)
	}
	return peak, nil
}

// Stop stops every process and the front.
func (c *cluster) Stop() error {
	var errs []error
	for _, s := range c.servers {
		errs = append(errs, s.Stop())
	}
	if c.front != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		errs = append(errs, c.front.Shutdown(ctx))
		cancel()
	}
	return errors.Join(errs...)
}
