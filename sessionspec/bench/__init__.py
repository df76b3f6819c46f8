"""Benchmarks: throughput of the explorer, the Hypothesis exploration and ``check-trace``.

Beside the command line, above the engines it measures; nothing but the command line imports it.
"""
