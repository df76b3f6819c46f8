"""check-trace names the rule whose deadline a trace reports too early or too late, and when it falls."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from sessionspec.oracle.judge import judge_stream

Record = dict[str, Any]
HEADER: Record = {"trace": "sessionspec", "version": 1, "config": {"interactive_ttl": 60}}


def _session_with_one_job(job_start: int, job_end: int) -> list[Record]:
    return [
        HEADER,
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"},
        {"t": 0, "event": "session", "session": "s1", "state": "pending", "accepting": True},
        {"t": job_start, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1",
         "max_execution_time": 600},
        {"t": job_start, "event": "job", "job": "j1", "state": "queued"},
        {"t": job_start, "event": "job", "job": "j1", "state": "running"},
        {"t": job_start, "event": "session", "session": "s1", "state": "active", "accepting": True},
        {"t": job_end, "op": "finish_job", "job": "j1", "outcome": "completed"},
        {"t": job_end, "event": "job", "job": "j1", "state": "completed"},
    ]  # fmt: skip


def _deactivated_at(t: int) -> list[Record]:
    """j1 ends at 180; with ITTL 60 the model deactivates s1 at 240."""
    inactive = {"t": t, "event": "session", "session": "s1", "state": "inactive", "accepting": True}
    return [*_session_with_one_job(0, 180), inactive]


def _expired_at(t: int) -> list[Record]:
    """The first job starts at 100 with max_execution_time 600, so the model expires s1 at 700."""
    return [
        *_session_with_one_job(100, 200),
        {"t": 260, "event": "session", "session": "s1", "state": "inactive", "accepting": True},
        {"t": t, "event": "session", "session": "s1", "state": "expired", "accepting": False},
    ]


def _judge(records: list[Record]) -> dict[str, Any]:
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    verdict = judge_stream(io.BytesIO(data), "trace")
    assert verdict.status == 1, verdict.as_dict()
    divergence: dict[str, Any] = verdict.as_dict()["divergence"]
    return divergence


@pytest.mark.parametrize("records", [_deactivated_at(240), _expired_at(700)])
def test_on_time_deadlines_conform(records: list[Record]) -> None:
    """The reference point: on time, both traces conform, so the other cases differ only in time."""
    data = "".join(json.dumps(r) + "\n" for r in records).encode()
    assert judge_stream(io.BytesIO(data), "trace").status == 0


@pytest.mark.parametrize(
    ("records", "rule", "reported_at", "message"),
    [
        (_deactivated_at(200), "SES-ITTL-DEACTIVATE", 200,
         "nothing is due at t=200; the model expects t=240 session s1 -> inactive"),
        (_expired_at(600), "SES-EXPIRY", 600,
         "nothing is due at t=600; the model expects t=700 session s1 -> expired"),
    ],
)  # fmt: skip
def test_early_deadline_names_its_rule_and_the_expected_instant(
    records: list[Record], rule: str, reported_at: int, message: str
) -> None:
    """A deadline reported before it falls names the deadline's rule and when the model has it."""
    divergence = _judge(records)
    assert divergence["rule"] == rule
    assert divergence["t"] == reported_at
    assert divergence["message"].startswith(message)


@pytest.mark.parametrize(
    ("records", "rule", "due"),
    [(_deactivated_at(250), "SES-ITTL-DEACTIVATE", 240), (_expired_at(750), "SES-EXPIRY", 700)],
)
def test_late_deadline_names_its_rule_and_the_expected_instant(
    records: list[Record], rule: str, due: int
) -> None:
    """A deadline the trace reports after it falls names the rule and the instant it fell."""
    divergence = _judge(records)
    assert divergence["rule"] == rule
    assert divergence["t"] == due
    assert divergence["message"] == f"a deadline falls at t={due}; the trace reports nothing then"
    assert any(f"t={due} session s1 ->" in line for line in divergence["expected"])


def test_report_that_time_never_brings_says_nothing_is_due() -> None:
    """A change no deadline would ever bring keeps the plain message (and names the rule it breaks)."""
    records = [
        *_session_with_one_job(0, 180),
        {"t": 200, "event": "session", "session": "s1", "state": "closed", "accepting": False},
    ]
    divergence = _judge(records)
    assert divergence["message"] == "nothing is due at t=200"
    assert divergence["rule"] != "SES-ITTL-DEACTIVATE"
