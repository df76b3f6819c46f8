"""Compile the core with mypyc into build/native (run by scripts/setup; safe to re-run).

The compiled modules are the same source as the pure ones: each package puts its part of
build/native first on its path when the build matches the sources (see
``sessionspec.model.native_path``), unless SESSIONSPEC_PURE=1 is set.
Without a C compiler, or if compiling fails, nothing is built and the pure modules run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NATIVE = ROOT / "build" / "native"
# the hot modules: one transition (every engine), the rules and their views (the checkers),
# the explorer's reductions; paths below sessionspec/
MODULES = (
    *(f"model/{name}" for name in ("core", "records", "deadlines", "usage", "clock", "idset")),
    *(
        f"invariants/{name}"
        for name in ("view", "checker", "exercise", "scheduling", "timers", "endings", "reporting")
    ),
    "explorer/symmetry",
    "explorer/abstraction",
    "explorer/moves",
)


def main() -> int:
    try:
        from mypyc.build import mypycify
        from setuptools import setup
    except ImportError as exc:
        print(f"build_native: {exc}; the core stays pure Python", file=sys.stderr)
        return 0
    if shutil.which(os.environ.get("CC", "cc")) is None and shutil.which("gcc") is None:
        print("build_native: no C compiler; the core stays pure Python", file=sys.stderr)
        return 0
    paths = [str(ROOT / "sessionspec" / f"{name}.py") for name in MODULES]
    shutil.rmtree(NATIVE, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="sessionspec-native-") as work:
        os.chdir(work)  # (setuptools reads a pyproject.toml in the working directory)
        try:
            setup(
                name="sessionspec-native",
                ext_modules=mypycify(paths, opt_level="3", group_name="sessionspec.model.native"),
                script_args=["-q", "build_ext", "--build-lib", str(NATIVE), "--build-temp", work],
            )
        except (SystemExit, Exception) as exc:  # a failed compile leaves the pure core in charge
            shutil.rmtree(NATIVE, ignore_errors=True)
            print(f"build_native: compiling failed ({exc}); the core stays pure Python", file=sys.stderr)
            return 0
    # the sources compiled: a later change of one makes the package ignore the stale build
    stamp = {
        name: hashlib.sha256(Path(path).read_bytes()).hexdigest()
        for name, path in zip(MODULES, paths, strict=True)
    }
    (NATIVE / "sources.json").write_text(json.dumps(stamp, indent=1) + "\n", encoding="utf-8")
    print(f"build_native: compiled {', '.join(MODULES)} into {NATIVE}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
