# The two set-up commands of the README, plus the benchmarks. Each installs what it needs first.
.PHONY: demo test bench install clean help

# Debian packages each command needs (installed through apt when missing and running as root).
DEMO_SYSTEM_PACKAGES := redis-server
TEST_SYSTEM_PACKAGES := postgresql redis-server chromium prometheus
BENCH_SYSTEM_PACKAGES := $(TEST_SYSTEM_PACKAGES) wrk

help:
	@echo "make demo   start the whole product on the embedded defaults (Ctrl-C stops it)"
	@echo "make test   run every test"
	@echo "make bench  run the benchmarks and write benchmarks/RESULTS.md"

install:
	@scripts/bootstrap.sh $(DEMO_SYSTEM_PACKAGES)

demo:
	@scripts/bootstrap.sh $(DEMO_SYSTEM_PACKAGES)
	uv run --frozen scc demo

test:
	@scripts/bootstrap.sh $(TEST_SYSTEM_PACKAGES)
	uv run --frozen pytest

bench:
	@scripts/bootstrap.sh $(BENCH_SYSTEM_PACKAGES)
	uv run --frozen python -m benchmarks

clean:
	rm -rf data .pytest_cache
