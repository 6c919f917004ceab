"""Benchmarks: `make bench` (python -m benchmarks). Figures go to RESULTS.md."""
