"""Sums and differences of times, taken as the decimal numbers a trace writes them.

JSON numbers are decimals, and traces write times such as 0.1 or 12.5. Python reads a
decimal with a fraction as the nearest binary float, and binary sums are not decimal
sums: 0.1 + 0.2 is 0.30000000000000004, so a job started at 0.1 with a 0.2 s limit would
not be due at the 0.3 a trace reports. The model therefore adds and subtracts times as
decimals: each float stands for the shortest decimal that reads back as it (what
``repr`` and JSON write), the decimals are combined exactly, and the result is read back
as the nearest float (or an int when it is whole). Whole numbers take the plain integer
path. For times written with at most 15 significant digits, comparing such results is
comparing the exact decimal values (decision D18).

>>> 0.1 + 0.2 == 0.3
False
>>> later(0.1, 0.2) == 0.3
True
>>> later(5, 10), later(0.5, 0.5), elapsed(0.1, 0.3)
(15, 1, 0.2)
"""

from __future__ import annotations

from decimal import Decimal

from sessionspec.model.config import Number


def later(t: Number, length: Number) -> Number:
    """The instant ``length`` seconds after ``t`` (or any two durations added)."""
    if type(t) is int and type(length) is int:
        return t + length
    return _number(_decimal(t) + _decimal(length))


def elapsed(start: Number, end: Number) -> Number:
    """The seconds from ``start`` to ``end``."""
    if type(start) is int and type(end) is int:
        return end - start
    return _number(_decimal(end) - _decimal(start))


def _decimal(value: Number) -> Decimal:
    return Decimal(value) if type(value) is int else Decimal(repr(value))


def _number(value: Decimal) -> Number:
    whole = int(value)
    return whole if value == whole else float(value)
