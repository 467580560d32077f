"""Benchmarks (`make bench`): each measures the app under load and a baseline in the same run.

bench.harness holds what they share (database, gunicorn, wrk, results); bench.dataset
loads a realistic member base with set-based SQL.
"""
