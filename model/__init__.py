"""The model: the declared Session and Job machines and the one core that makes every transition.

Installed as ``sessionspec.model`` (this folder is linked into the package). The bottom layer:
it imports nothing else of sessionspec.

In a checkout where ``scripts/setup`` compiled the core with mypyc (``build/native``), the
compiled modules are found first, as long as they were built from the sources as they are now;
set ``SESSIONSPEC_PURE=1`` to run the pure Python ones. Both are built from the same source and
pass the same tests. ``NATIVE`` says which run.
"""

import hashlib
import json
import os
from pathlib import Path

_SOURCES = Path(__file__).resolve().parent.parent / "sessionspec"  # (through the package's links)
_BUILD = Path(__file__).resolve().parent.parent / "build" / "native"


def _compiled_modules() -> tuple[str, ...]:
    """The modules compiled from exactly these sources, as ``package/module`` (none when the build
    is stale or absent: they share one runtime library, so they run compiled all or none)."""
    try:
        stamp = json.loads((_BUILD / "sources.json").read_text(encoding="utf-8"))
        current = all(
            hashlib.sha256((_SOURCES / f"{name}.py").read_bytes()).hexdigest() == digest
            for name, digest in stamp.items()
        )
        return tuple(stamp) if current else ()
    except (OSError, ValueError, AttributeError):
        return ()


# the modules that run compiled, and whether any do
COMPILED = () if os.environ.get("SESSIONSPEC_PURE") else _compiled_modules()
NATIVE = bool(COMPILED)


def native_path(package: str) -> list[str]:
    """Where ``sessionspec.<package>``'s compiled modules are, to put first on its path (or nothing)."""
    if not any(name.startswith(f"{package}/") for name in COMPILED):
        return []
    return [str(_BUILD / "sessionspec" / package)]


__path__[:0] = native_path("model")  # (the package's own search path)
