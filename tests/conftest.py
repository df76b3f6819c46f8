"""Test-wide Hypothesis settings: no wall-clock deadlines; fixed seeds on CI."""

from __future__ import annotations

import os

from hypothesis import settings

# Deadlines measure wall time, which a loaded machine stretches: never a reason to fail.
settings.register_profile("sessionspec", deadline=None)
# On CI every run derandomizes, so a red build reproduces exactly on any machine.
settings.register_profile("sessionspec-ci", deadline=None, derandomize=True, database=None)
settings.load_profile("sessionspec-ci" if os.environ.get("CI") else "sessionspec")
