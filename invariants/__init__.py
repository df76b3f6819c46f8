"""The rule catalogue of sessionspec, installed as ``sessionspec.invariants``.

Importing this package registers every rule; :data:`RULES` maps rule IDs to rules
in catalogue order: who runs where, then time, then endings, then reporting. It imports
only the model.
"""

# ruff: noqa: I001, E402  (the import order below is the catalogue order; the path comes first)
from sessionspec.model import native_path

__path__[:0] = native_path("invariants")  # compiled modules first, where built (see sessionspec.model)
from sessionspec.invariants import scheduling, timers, endings, reporting  # noqa: F401  (registers rules)
from sessionspec.invariants.catalogue import RULES, Kind, Rule, RuleViolation, Violation
from sessionspec.invariants.checker import Checker

__all__ = ["RULES", "Checker", "Kind", "Rule", "RuleViolation", "Violation"]
