"""The exhaustive bounded explorer (``sessionspec check``): breadth-first search, presets, reports.

Imports the model, the rules, ``traces`` and ``oracle`` (counterexamples are judged as traces).
"""

from sessionspec.model import native_path

__path__[:0] = native_path("explorer")  # compiled modules first, where built (see sessionspec.model)
