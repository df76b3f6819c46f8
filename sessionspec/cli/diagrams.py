"""``sessionspec diagrams``: regenerate the state diagrams, or check that they are up to date."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sessionspec.cli.arguments import Parser, fail, output_directory
from sessionspec.cli.outputs import reason
from sessionspec.pictures.diagrams import DEFAULT_DIR, GraphvizMissing, check_all, write_files

COMMAND = "sessionspec diagrams"


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog=COMMAND,
        description="Regenerate the state diagrams and the scheduler flowchart (DOT, Mermaid, SVG, PNG).",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=output_directory,
        default=str(DEFAULT_DIR),
        help=f"directory, created if need be (default: {DEFAULT_DIR})",
    )
    parser.add_argument(
        "--check", action="store_true", help="compare with the files instead; exit 1 if any differ"
    )
    parser.add_argument("--json", action="store_true", help="machine-readable list of the files")
    return parser


def main(argv: list[str] | None = None) -> int:
    """``sessionspec diagrams [--out DIR] [--check] [--json]``: exit 0, 1 (out of date), 2 (no dot)."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 2
    directory = Path(args.out)
    if args.check:
        return _check(directory, as_json=args.json)
    try:
        done = write_files(directory)
    except GraphvizMissing as missing:
        message = f"{missing}; only the DOT and Mermaid files were written"
        return fail(COMMAND, message, as_json=args.json)
    except OSError as problem:
        message = f"cannot write into {directory}: {reason(problem)}; give a directory you can write to"
        return fail(COMMAND, message, as_json=args.json)
    if args.json:
        files = [
            {"path": str(path), "status": "written" if changed else "unchanged"} for path, changed in done
        ]
        print(json.dumps({"directory": str(directory), "files": files}, indent=2))
    else:
        for path, changed in done:
            print(f"{'written' if changed else 'unchanged':9}  {path}")
    return 0


def _check(directory: Path, *, as_json: bool) -> int:
    results = check_all(directory)
    bad = [r for r in results if r.status not in ("ok", "unchecked")]
    if as_json:
        report = {"directory": str(directory), "ok": not bad, "files": [r.as_dict() for r in results]}
        print(json.dumps(report, indent=2))
    else:
        for result in results:
            if result.status != "ok" or result.note:
                note = f" ({result.note})" if result.note else ""
                print(f"{result.status:9}  {result.path}{note}")
        unchecked = sum(r.status == "unchecked" for r in results)
        if bad:
            again = COMMAND if directory == DEFAULT_DIR else f"{COMMAND} --out {directory}"
            print(f"{len(bad)} diagram file(s) out of date: run `{again}` to regenerate them")
        elif unchecked:
            print(
                f"{len(results) - unchecked} diagram files are up to date; {unchecked} could not be checked"
            )
        else:
            print(f"all {len(results)} diagram files are up to date")
    return 1 if bad else 0
