"""Command-line argument helpers shared by every ``sessionspec`` command.

Bad usage always ends with exit status 2, the usage line and a hint, never a traceback:

>>> whole_number(1)("0")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: 0 is too small: give 1 or more
>>> seconds("2.5")
2.5
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable
from typing import NoReturn


class Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and a one-line hint, never a traceback."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {message}\n(run '{self.prog} --help' for the options)\n")


def integer(text: str) -> int:
    """Any whole number (a seed, for example)."""
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None


def whole_number(minimum: int) -> Callable[[str], int]:
    """A whole number no smaller than ``minimum``."""

    def parse(text: str) -> int:
        value = integer(text)
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is too small: give {minimum} or more")
        return value

    return parse


def seconds(text: str) -> float:
    """A finite number of seconds greater than zero."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number of seconds")
    return value
