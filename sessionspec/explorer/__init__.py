"""The exhaustive bounded explorer (``sessionspec check``): breadth-first search, presets, reports.

Imports the model, the rules, ``traces`` and ``oracle`` (counterexamples are judged as traces).
"""
