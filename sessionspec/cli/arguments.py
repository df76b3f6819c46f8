"""Command-line argument helpers shared by every ``sessionspec`` command.

Bad usage always ends with exit status 2, the usage line and a hint, never a traceback
(with ``--json``, also a JSON error object on standard output):

>>> whole_number(1)("0")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: 0 is too small: give 1 or more
>>> seconds("2.5")
2.5
>>> picture_file("x.gif")
Traceback (most recent call last):
...
argparse.ArgumentTypeError: cannot draw x.gif: the formats are .svg and .png
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

# the picture formats of the timelines (sessionspec.pictures.timeline.FORMATS, which loads matplotlib)
PICTURE_FORMATS = ("svg", "png")


class Parser(argparse.ArgumentParser):
    """argparse that exits with status 2 and a one-line hint, never a traceback.

    When the arguments include ``--json`` (before any ``--``), the error is also printed
    as a JSON object on standard output, as every other error of the command is.
    """

    wants_json = False

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        arguments = list(sys.argv[1:] if args is None else args)
        options = arguments[: arguments.index("--")] if "--" in arguments else arguments
        self.wants_json = "--json" in options
        return super().parse_known_args(arguments, namespace)

    def error(self, message: str) -> NoReturn:
        hint = f"run '{self.prog} --help' for the options"
        if self.wants_json:
            print(json.dumps(error_object(self.prog, message, hint=hint), indent=2))
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: {message}\n({hint})\n")


def error_object(command: str, message: str, status: int = 2, **details: Any) -> dict[str, Any]:
    """The JSON object every command prints on standard output for an error, with ``--json``."""
    return {"command": command, "status": status, "error": message, **details}


def fail(command: str, message: str, *, as_json: bool, status: int = 2) -> int:
    """Say what went wrong on standard error (and as a JSON object with ``--json``); return ``status``."""
    if as_json:
        print(json.dumps(error_object(command, message, status), indent=2))
    print(f"{command}: {message}", file=sys.stderr)
    return status


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


def picture_file(text: str) -> str:
    """A picture to write: a path ending in .svg or .png, in a directory that exists."""
    path = Path(text)
    if path.suffix.lower().lstrip(".") not in PICTURE_FORMATS:
        formats = " and ".join(f".{f}" for f in PICTURE_FORMATS)
        raise argparse.ArgumentTypeError(f"cannot draw {text}: the formats are {formats}")
    if _kind(path) == "directory":
        raise argparse.ArgumentTypeError(f"{text} is a directory: give the name of a picture file")
    _check_parent(path, text)
    return text


def output_file(text: str) -> str:
    """A file to write, in a directory that exists."""
    path = Path(text)
    if _kind(path) == "directory":
        raise argparse.ArgumentTypeError(f"{text} is a directory: give a file name")
    _check_parent(path, text)
    return text


def output_directory(text: str) -> str:
    """A directory to write into: an existing one, or one that can be created.

    Only what can be told without writing is checked here; creating it may still fail.
    """
    path = Path(text)
    if _kind(path) == "file":
        raise argparse.ArgumentTypeError(f"{text} is a file, not a directory: give a directory")
    ancestor = next((p for p in path.absolute().parents if _kind(p) != "missing"), None)
    if ancestor is not None and _kind(ancestor) == "file":
        raise argparse.ArgumentTypeError(f"cannot make {text}: {ancestor} is a file, not a directory")
    return text


def _kind(path: Path) -> str:
    """``directory``, ``file`` (anything else that exists), or ``missing`` (or unreachable)."""
    try:
        return "directory" if path.is_dir() else "file" if path.exists() else "missing"
    except OSError:  # a name too long, a loop of links: writing there fails and says why
        return "missing"


def _check_parent(path: Path, text: str) -> None:
    parent = path.absolute().parent
    kind = _kind(parent)
    if kind != "directory":
        what = "is a file" if kind == "file" else "does not exist"
        raise argparse.ArgumentTypeError(f"cannot write {text}: the directory {parent} {what}")
