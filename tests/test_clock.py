"""Times are added and compared as the decimals a trace writes, not as binary floats."""

from __future__ import annotations

import io
import json
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from sessionspec.model.clock import elapsed, later
from sessionspec.oracle.judge import judge_stream

# Decimals a trace might write: up to 15 significant digits.
decimals = st.decimals(min_value=0, max_value=10**6, places=6, allow_nan=False, allow_infinity=False)


@given(decimals, decimals)
def test_later_is_decimal_addition(a: Decimal, b: Decimal) -> None:
    """later(a, b) is the float a trace reading a + b would give, whatever a and b."""
    assert later(float(a), float(b)) == float(a + b)


@given(decimals, decimals)
def test_elapsed_is_decimal_subtraction(a: Decimal, b: Decimal) -> None:
    """elapsed(a, b) is the float of b - a, exactly as decimals subtract."""
    assert elapsed(float(a), float(b)) == float(b - a)


def test_whole_numbers_stay_integers() -> None:
    """Integers add as integers, and a whole decimal sum is an integer."""
    assert later(5, 10) == 15 and type(later(5, 10)) is int
    assert later(0.5, 0.5) == 1 and type(later(0.5, 0.5)) is int


FRACTIONAL_TRACE = [
    {"trace": "sessionspec", "version": 1, "config": {"interactive_ttl": 60}},
    {"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "max_execution_time": 5},
    {"t": 0, "event": "job", "job": "j1", "state": "queued"},
    {"t": 0, "event": "job", "job": "j1", "state": "running"},
    {"t": 0.1, "op": "finish_job", "job": "j1", "outcome": "completed"},
    {"t": 0.1, "event": "job", "job": "j1", "state": "completed"},
    {"t": 0.1, "op": "submit", "job": "j2", "backend": "qpu1", "max_execution_time": 0.2},
    {"t": 0.1, "event": "job", "job": "j2", "state": "queued"},
    {"t": 0.1, "event": "job", "job": "j2", "state": "running"},
    {"t": 0.3, "event": "job", "job": "j2", "state": "failed"},
]


def _judge(records: list[dict[str, object]]) -> int:
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    return judge_stream(io.BytesIO(data), "trace").status


def test_job_started_at_a_tenth_with_limit_of_two_tenths_fails_at_three_tenths() -> None:
    """A 0.2 s job started at 0.1 is stopped at 0.3, as the decimals say (0.1 + 0.2 == 0.3)."""
    assert _judge(FRACTIONAL_TRACE) == 0


def test_the_binary_instant_does_not_conform() -> None:
    """Reporting the binary sum 0.30000000000000004 instead is early or late, never right."""
    late = [*FRACTIONAL_TRACE[:-1], {**FRACTIONAL_TRACE[-1], "t": 0.1 + 0.2}]
    assert _judge(late) == 1
