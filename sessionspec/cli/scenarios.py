"""``sessionspec scenarios [--json] [NAME...]``: list the conformance scenario library."""

from __future__ import annotations

import json
from collections.abc import Sequence

from sessionspec.cli.arguments import Parser, fail
from sessionspec.conformance.scenarios import SCENARIOS, format_scenario

COMMAND = "sessionspec scenarios"


def main(argv: Sequence[str] | None = None) -> int:
    """``sessionspec scenarios [--json] [NAME...]``: list the library, or show some scenarios in full."""
    parser = Parser(
        prog=COMMAND,
        description="List the scenario library that `sessionspec conform` runs first: name, rule, "
        "description. Give names to show those scenarios' configuration and inputs.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="scenarios to show in full")
    parser.add_argument("--json", action="store_true", help="machine-readable: everything of each scenario")
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 2
    unknown = [name for name in args.names if name not in SCENARIOS]
    if unknown:
        message = f"no scenario named {', '.join(unknown)} (run '{COMMAND}' for the list)"
        return fail(COMMAND, message, as_json=args.json)
    chosen = [SCENARIOS[name] for name in args.names] if args.names else list(SCENARIOS.values())
    if args.json:
        print(json.dumps([s.as_dict() for s in chosen], indent=2))
    elif args.names:
        print("\n\n".join(format_scenario(s) for s in chosen))
    else:
        width = max(len(s.name) for s in chosen)
        rule_width = max(len(s.rule) for s in chosen)
        for s in chosen:
            print(f"{s.name:<{width}}  {s.rule:<{rule_width}}  {s.description}")
    return 0
