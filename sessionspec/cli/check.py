"""``sessionspec check``: model-check a preset exhaustively and print the report (the main job).

Exit status: 0 verified; 1 a rule was violated (or the model crashed); 2 bad usage, a bad
``--config`` file or an output that cannot be written; 4 stopped by ``--max-states``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sessionspec.cli.arguments import fail, output_directory, picture_file, whole_number
from sessionspec.cli.outputs import draw_timeline, finish, make_directory, reason
from sessionspec.explorer.presets import DEFAULT_PRESET, PRESETS
from sessionspec.invariants import RULES

COMMAND = "sessionspec check"


def add_parser(commands: Any) -> None:
    """Add ``check`` and its options to the subcommands of ``sessionspec``."""
    check = commands.add_parser(
        "check", help="model-check a bounded configuration exhaustively and print the report (main job)"
    )
    which = check.add_mutually_exclusive_group()
    which.add_argument(
        "--preset", choices=sorted(PRESETS), default=DEFAULT_PRESET, help=f"a named preset ({DEFAULT_PRESET})"
    )
    which.add_argument("--config", metavar="FILE", help='a JSON file {"config": {...}, "bounds": {...}}')
    which.add_argument("--list-presets", action="store_true", help="list the presets and their bounds")
    check.add_argument("--no-symmetry", action="store_true", help="explore every renaming separately")
    check.add_argument(
        "--compare-symmetry", action="store_true", help="search with and without symmetry reduction"
    )
    check.add_argument("--max-states", type=whole_number(1), default=None, help="stop after N states")
    check.add_argument("--workers", type=whole_number(1), default=1, help="processes to search with (1)")
    check.add_argument(
        "--out",
        metavar="DIR",
        type=output_directory,
        default=".",
        help="where a counterexample's trace and ITF files go, created if need be (.)",
    )
    check.add_argument("--json", action="store_true", help="machine-readable report")
    check.add_argument(
        "--timeline", metavar="FILE", type=picture_file, help="on a violation, draw the counterexample"
    )


def run(args: argparse.Namespace) -> int:
    """Run ``sessionspec check`` with parsed arguments; return the exit status."""
    from sessionspec.explorer import model_check
    from sessionspec.explorer.presets import load_preset_file
    from sessionspec.model.errors import InvalidInput

    if args.list_presets:
        for preset in PRESETS.values():
            print(f"{preset.name:8} {preset.summary}")
            print(f"         bounds: {json.dumps(preset.bounds.to_dict())}")
        return 0
    try:
        preset = load_preset_file(args.config) if args.config else PRESETS[args.preset]
    except InvalidInput as problem:
        return fail(COMMAND, f"{args.config}: {problem}", as_json=args.json)
    except OSError as problem:
        return fail(COMMAND, f"cannot read {args.config}: {reason(problem)}", as_json=args.json)
    cannot = make_directory(args.out)
    if cannot:
        return fail(COMMAND, f"--out: {cannot}", as_json=args.json)
    if not args.json:
        print(f"{COMMAND}: preset {preset.name}, {len(RULES)} rules", flush=True)
    report, counterexample = model_check.run_check(
        preset,
        symmetry=not args.no_symmetry,
        compare=args.compare_symmetry,
        max_states=args.max_states,
        workers=args.workers,
        out=Path(args.out),
        progress=None if args.json else model_check.progress_line,
    )
    status = model_check.exit_status(report)
    unsaved = (report["counterexample"] or {}).get("save_error")
    if unsaved:  # the report still shows the counterexample; the error goes with it
        status = fail(COMMAND, unsaved, as_json=False)
        report.update(status=status, error=unsaved)
    timeline = None
    if args.timeline:
        from sessionspec.explorer.counterexample import trace_lines

        trace = trace_lines(counterexample) if counterexample is not None else None
        nothing = "no rule was violated, so there is no counterexample to draw"
        timeline = draw_timeline(args.timeline, trace, "counterexample", nothing=nothing)
    text = model_check.format_report(report)
    return finish(COMMAND, status, report=report, text=text, timeline=timeline, as_json=args.json)
