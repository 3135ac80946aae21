"""Benchmarks (not tests): each module prints figures and exposes run(quick) -> dict."""
