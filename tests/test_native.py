"""The compiled core and the pure one: built from the same source, they make the same transitions."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

# One run per configuration of the exploration, printed as JSON: what either core makes of it.
RUNS = """
import json, random
import sessionspec.model
from sessionspec.exploration.stateful import CONFIGS, TEMPLATES, Context
from sessionspec.model.step import step
from sessionspec.model.world import World
out = {"native": sessionspec.model.NATIVE, "runs": []}
for seed in range(60):
    rng = random.Random(seed)
    config = CONFIGS[seed % len(CONFIGS)]
    world, ctx, seen = World.empty(config), Context(), []
    for _ in range(40):
        world, observed = step(world, rng.choice(TEMPLATES).resolve(world, ctx), trusted=True)
        seen.append([o.to_dict() for o in observed])
    out["runs"].append([seen, repr((world.now, world.sessions, world.jobs))])
print(json.dumps(out))
"""


def _runs(pure: bool) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if k != "SESSIONSPEC_PURE"}
    if pure:
        env["SESSIONSPEC_PURE"] = "1"
    done = subprocess.run([sys.executable, "-c", RUNS], env=env, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_pure_python_is_chosen_on_request() -> None:
    """SESSIONSPEC_PURE=1 runs the pure modules, whatever is built."""
    assert _runs(pure=True)["native"] is False


def test_compiled_and_pure_cores_make_the_same_runs() -> None:
    """Where a compiled core is built, it gives the pure core's observations and worlds exactly."""
    compiled = _runs(pure=False)
    if not compiled["native"]:
        pytest.skip("no compiled core is built here (scripts/build_native.py builds one)")
    pure = _runs(pure=True)
    assert compiled["runs"] == pure["runs"]
    assert len(pure["runs"]) == 60  # type: ignore[arg-type]
