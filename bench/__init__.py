"""Benchmarks that print figures (`make bench`). Never assertions: goals are read, not enforced."""
