"""Trace records (protocol v1, section 1): reading trace files without crashing, and writing model runs.

Imports the model only; every engine that reads or writes traces uses this package.
"""
