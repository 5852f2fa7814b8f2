"""Benchmarks: scripts run by `make bench` and `make lighthouse`; figures in bench/README.md."""
