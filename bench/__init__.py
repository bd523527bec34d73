"""Benchmarks: each measures the gateway against a baseline in the same run and prints the ratio."""
