"""Benchmarks (`make bench`, `make lighthouse`), and the Lambda host and proxy the tests share."""
