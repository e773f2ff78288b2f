package storagetest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"github.com/coppice-dev/coppice/storage"
)

// Engine is the database engine the tests of this run use: "postgres" when
// COPPICE_TEST_DB=postgres, else "sqlite". The README's test command runs
// the suite once with each.
func Engine() string {
	if os.Getenv("COPPICE_TEST_DB") == "postgres" {
		return "postgres"
	}
	return "sqlite"
}

// DB returns what --db takes for a fresh, empty database of this run's
// engine: an SQLite path under t.TempDir(), or the URL of a new database
// on the throwaway PostgreSQL server of this test binary.
func DB(t testing.TB) string {
	t.Helper()
	if Engine() == "postgres" {
		return PostgresURL(t)
	}
	return filepath.Join(t.TempDir(), "coppice.db")
}

// Main runs a package's tests and then stops the throwaway PostgreSQL
// server if one was started: call it from TestMain as
// os.Exit(storagetest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	server.stop()
	return code
}

// The throwaway server: started by the first test that asks for a
// PostgreSQL database, stopped by Main (and, should the test binary die
// first, by the kernel: it is the server's parent-death signal).
var server pgServer

type pgServer struct {
	once    sync.Once
	err     error
	dir     string
	admin   *sql.DB // to the postgres database, for CREATE DATABASE
	base    string  // URL without the database name
	cmd     *exec.Cmd
	exited  chan struct{}
	mu      sync.Mutex // serializes CREATE DATABASE … TEMPLATE
	counter atomic.Int64
}

// PostgresURL creates an empty, migrated database on the throwaway server
// and returns its URL; the database is dropped when the test ends.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, "coppice_template")
}

// UnmigratedPostgresURL is PostgresURL for a database without even the
// schema, for tests of migrating.
func UnmigratedPostgresURL(t testing.TB) string {
	t.Helper()
	return newDatabase(t, "template0")
}

func newDatabase(t testing.TB, template string) string {
	t.Helper()
	server.once.Do(func() { server.err = server.start() })
	if server.err != nil {
		t.Fatalf("throwaway PostgreSQL: %v", server.err)
	}
	name := fmt.Sprintf("t%d_%d", os.Getpid(), server.counter.Add(1))
	server.mu.Lock()
	_, err := server.admin.Exec(`CREATE DATABASE ` + name + ` TEMPLATE ` + template)
	server.mu.Unlock()
	if err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() { _, _ = server.admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) })
	return server.base + name
}

// pgBin finds a PostgreSQL server program: Debian's postgresql package
// puts them in /usr/lib/postgresql/VERSION/bin, outside PATH.
func pgBin(name string) (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if p := filepath.Join(d, name); isExecutable(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found: install Debian's postgresql package (scripts/need-postgresql)", name)
}

func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode()&0o111 != 0
}

func (s *pgServer) start() error {
	initdb, err := pgBin("initdb")
	if err != nil {
		return err
	}
	postgres, err := pgBin("postgres")
	if err != nil {
		return err
	}
	sweepStale()
	s.dir, err = os.MkdirTemp("", fmt.Sprintf("coppice-pg-%d-", os.Getpid()))
	if err != nil {
		return err
	}
	// PostgreSQL refuses to run as root: run it as the postgres user.
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return fmt.Errorf("running as root needs the postgres user of Debian's package: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(s.dir, uid, gid); err != nil {
			return err
		}
	}
	data := filepath.Join(s.dir, "data")
	init := exec.Command(initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale", "--no-sync")
	init.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := init.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v: %s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return err
	}
	// Durability is not what these tests are about: no fsync.
	s.cmd = exec.Command(postgres, "-D", data, "-p", strconv.Itoa(port), "-k", s.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=500", "-c", "fsync=off",
		"-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "shared_buffers=64MB")
	log, err := os.Create(filepath.Join(s.dir, "server.log"))
	if err != nil {
		return err
	}
	s.cmd.Stdout, s.cmd.Stderr = log, log
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGINT}
	s.exited = make(chan struct{})
	started := make(chan error)
	// The parent-death signal follows the thread that started the child:
	// keep that thread for the server's whole life.
	go func() {
		runtime.LockOSThread()
		if err := s.cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	s.base = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/", port)
	s.admin, err = sql.Open("pgx", s.base+"postgres")
	if err != nil {
		return err
	}
	s.admin.SetMaxOpenConns(2)
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := s.admin.Ping()
		if err == nil {
			break
		}
		select {
		case <-s.exited:
			b, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
			return fmt.Errorf("postgres exited: %s", b)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres not ready after 30 s: %w", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// One migrated database, copied for each test.
	if _, err := s.admin.Exec(`CREATE DATABASE coppice_template`); err != nil {
		return err
	}
	st, err := storage.Open(context.Background(), s.base+"coppice_template")
	if err != nil {
		return fmt.Errorf("migrate the template database: %w", err)
	}
	return st.Close()
}

func (s *pgServer) stop() {
	if s.cmd == nil || s.cmd.Process == nil {
		return
	}
	if s.admin != nil {
		s.admin.Close()
	}
	_ = s.cmd.Process.Signal(syscall.SIGINT) // fast shutdown, as pg_ctl stop
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	os.RemoveAll(s.dir)
}

// sweepStale removes the directories of throwaway servers whose test
// binary died without stopping them (the server itself died with it).
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "coppice-pg-*"))
	for _, d := range dirs {
		pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(filepath.Base(d), "coppice-pg-"), "-", 2)[0])
		if err != nil || processAlive(pid) {
			continue
		}
		os.RemoveAll(d)
	}
}

func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
