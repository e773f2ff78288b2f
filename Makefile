# The two commands of the README: `make run` and `make test`.
# Every go command here uses the same flags, so build, vet and test share one
# cache and SQLite is always built with FTS5.
GOFLAGS := -buildvcs=false -tags=sqlite_fts5
export GOFLAGS
STATICCHECK := go run honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: run build load test bench

# Build the binary and serve on 127.0.0.1:8080 with ./coppice.db.
run: build
	./bin/coppice serve

# OpenSSL's headers (libssl-dev) are the one C library the build needs
# beyond gcc's: scripts/need-libssl installs them when they are missing.
build:
	scripts/need-libssl
	go build -o bin/coppice ./cmd/coppice

# The load tool of README's Performance section.
load: build
	go build -o bin/coppice-load ./cmd/coppice-load

# Everything CI checks: formatting, vet, staticcheck, the race-enabled tests
# on SQLite, then again on PostgreSQL (a throwaway server the tests start
# from Debian's postgresql package, which scripts/need-postgresql installs;
# the browser tests need chromium, which scripts/need-chromium installs, and
# the metrics test promtool, which scripts/need-promtool installs).
test:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt: these files need formatting:"; echo "$$unformatted"; exit 1; fi
	scripts/need-libssl
	go vet ./...
	$(STATICCHECK) ./...
	scripts/need-chromium
	scripts/need-promtool
	scripts/need-postgresql
	go test -race -shuffle=on -timeout 30m ./...
	COPPICE_TEST_DB=postgres go test -race -shuffle=on -timeout 30m ./...

bench:
	go test -run '^$$' -bench . -benchmem ./...
