"""Helpers shared by the tests and benchmarks: services, audio analysis, listeners."""
