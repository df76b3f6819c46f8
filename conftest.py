"""Test collection for the whole checkout."""

import sessionspec.model

# A module compiled with mypyc has no source for doctests to read: its doctests run in the pure
# Python pass of scripts/test (SESSIONSPEC_PURE=1).
collect_ignore = [f"sessionspec/{name}.py" for name in sessionspec.model.COMPILED]
