# ezfs build, test and benchmark entry points. CI calls only `make test` (via .ci/run).
GO        ?= go
PREFIX    ?= /usr/local
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -X main.version=$(VERSION)
PKGS      := ./...
FUZZTIME  ?= 10s

.PHONY: build demo test lint check-banned fuzz bench vectors install clean

build:
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o bin/ezfs ./cmd/ezfs

# Every unit and integration test with the race detector (-count=1: never cached), then the
# crypto and content packages once more on one core, where scheduling differs most.
test: lint
	$(GO) test -race -count=1 -timeout 30m $(PKGS)
	GOMAXPROCS=1 $(GO) test -count=1 -timeout 10m ./zone/... ./keys/...

lint: check-banned
	@out=$$(gofmt -l $$(git ls-files '*.go') 2>/dev/null); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Cheap checks for banned patterns; each message names what to use instead.
check-banned:
	@if grep -rn --include='*.go' '"math/rand' keys zone volume 2>/dev/null | grep -v _test.go; then \
		echo "use crypto/rand in keys/, zone/ and volume/"; exit 1; fi
	@if grep -rn --include='*.go' -E '\bfmt\.Print' keys zone volume fs ctl 2>/dev/null | grep -v _test.go; then \
		echo "library packages log through the *slog.Logger they are given"; exit 1; fi
	@if grep -rn --include='*.go' 'slog\.Default' keys zone volume fs ctl 2>/dev/null | grep -v _test.go; then \
		echo "library packages take a *slog.Logger; never slog.Default"; exit 1; fi

# A short run of every fuzz target (go test runs one -fuzz target per invocation).
fuzz:
	@for pkg in $$($(GO) list ./...); do \
		for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$t"; \
			$(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

demo: build
	bash scripts/demo.sh

bench: build
	bash scripts/bench.sh

vectors:
	$(GO) test ./zone ./zone/chunk ./keys ./keys/local -run Vectors -update

install: build
	install -D -m 0755 bin/ezfs $(DESTDIR)$(PREFIX)/bin/ezfs
	install -d $(DESTDIR)/sbin
	ln -sf $(PREFIX)/bin/ezfs $(DESTDIR)/sbin/mount.fuse.ezfs

clean:
	rm -rf bin
