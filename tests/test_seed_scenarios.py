"""One directed scenario per statement and per gap of the reading of the seeds.

Each test drives the model through the rule checker (so every scenario is also
checked against the whole rule catalogue, eventual properties included) and pins
the exact observations, written by hand from the rules in trace vocabulary, or
the exact states and times. ``reason`` texts are free-form: where the rules ask
for one, the expected record holds :data:`REASON`, which matches any non-empty
text.
"""

from __future__ import annotations

import json
from typing import Any

from sessionspec.invariants import RULES, Checker
from sessionspec.model.config import Config, Reservation
from sessionspec.model.inputs import (
    Advance,
    CancelJob,
    CancelSession,
    CloseSession,
    CreateSession,
    FinishJob,
    Input,
    Submit,
    input_from_dict,
)
from sessionspec.model.world import JobRecord, SessionRecord, World

Record = dict[str, object]


class _AnyReason:
    """Equal to any non-empty string: a reason must be there, its words are free."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and bool(other.strip())

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "<any reason>"


REASON = _AnyReason()


def J(t: float, job: str, state: str, *, reason: bool = False) -> Record:
    """A ``job`` observation."""
    out: Record = {"t": t, "event": "job", "job": job, "state": state}
    if reason:
        out["reason"] = REASON
    return out


def S(t: float, session: str, state: str, accepting: bool = True) -> Record:
    """A ``session`` observation."""
    return {"t": t, "event": "session", "session": session, "state": state, "accepting": accepting}


class Scenario:
    """Feeds inputs through the rule checker and returns what each one made observable."""

    def __init__(self, config: Config) -> None:
        self.checker = Checker(World.empty(config))
        self.trace: list[dict[str, Any]] = []

    def do(self, *inputs: Input) -> list[dict[str, Any]]:
        """Apply inputs in order; every observation they caused (deadlines first), as dicts."""
        seen: list[dict[str, Any]] = []
        for inp in inputs:
            start = len(self.checker.history)
            self.checker.apply(inp)
            for transition in self.checker.history[start:]:
                seen.extend(o.to_dict() for o in transition.observations)
        self.trace.extend(seen)
        return seen

    @property
    def world(self) -> World:
        """The world after the last input."""
        return self.checker.world

    def job(self, job_id: str) -> JobRecord:
        """The record of a job that must exist."""
        job = self.world.job(job_id)
        assert job is not None, job_id
        return job

    def session(self, session_id: str) -> SessionRecord:
        """The record of a session that must exist."""
        session = self.world.session(session_id)
        assert session is not None, session_id
        return session

    def finish(self) -> World:
        """Let time run out of deadlines and check the eventual properties."""
        return self.checker.finish()


def assert_rejected(seen: list[dict[str, Any]], inp: Input) -> None:
    """Exactly one ``rejected`` observation answers ``inp``; its optional ids are the input's."""
    assert len(seen) == 1, seen
    (record,) = seen
    assert record["event"] == "rejected"
    assert record["t"] == inp.t
    assert record["op"] == inp.op
    assert record["reason"] == REASON
    assert set(record) <= {"t", "event", "op", "job", "session", "reason"}
    for key in ("job", "session"):
        if key in record:
            assert record[key] == getattr(inp, key)


def started(sc: Scenario) -> list[tuple[Any, str]]:
    """(t, job) of every job start seen so far, in order."""
    return [(o["t"], o["job"]) for o in sc.trace if o["event"] == "job" and o["state"] == "running"]


ITTL60 = Config(interactive_ttl=60)


# --------------------------------------------------------------------------- statements 1-16


def test_statement_01_first_session_job_waits_in_the_normal_queue() -> None:
    """A session's first job waits behind older plain jobs like any other job."""
    sc = Scenario(ITTL60)
    assert sc.do(Submit(0, "p1", "qpu1", instance="lab")) == [J(0, "p1", "queued"), J(0, "p1", "running")]
    assert sc.do(Submit(1, "p2", "qpu1", instance="lab")) == [J(1, "p2", "queued")]
    assert sc.do(CreateSession(2, "s1", "qpu1")) == [S(2, "s1", "pending")]
    assert sc.do(Submit(3, "j1", "qpu1", session="s1", instance="lab")) == [J(3, "j1", "queued")]
    assert sc.do(FinishJob(10, "p1", "completed")) == [J(10, "p1", "completed"), J(10, "p2", "running")]
    assert sc.do(FinishJob(20, "p2", "completed")) == [
        J(20, "p2", "completed"),
        J(20, "j1", "running"),
        S(20, "s1", "active"),
    ]
    sc.finish()


def test_statement_02_max_timeout_clock_starts_when_the_first_job_starts() -> None:
    """The max TTL counts from the first job's start (t=50), not from the session's creation (t=0)."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1", max_time=100), Submit(0, "p0", "qpu1"))
    assert sc.do(Submit(1, "j1", "qpu1", session="s1")) == [J(1, "j1", "queued")]
    assert sc.do(FinishJob(50, "p0", "completed")) == [
        J(50, "p0", "completed"),
        J(50, "j1", "running"),
        S(50, "s1", "active"),
    ]
    assert sc.session("s1").started_at == 50
    assert sc.session("s1").expires_at == 150
    assert sc.do(Advance(149)) == []
    assert sc.do(Advance(150)) == [S(150, "s1", "expired", False)]
    assert sc.job("j1").state == "running"
    sc.finish()


def test_statement_03_later_session_jobs_go_before_other_jobs() -> None:
    """A later job of an active session starts before an older plain job."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1"))
    assert sc.do(Submit(0, "j1", "qpu1", session="s1")) == [
        J(0, "j1", "queued"),
        J(0, "j1", "running"),
        S(0, "s1", "active"),
    ]
    assert sc.do(Submit(1, "p1", "qpu1")) == [J(1, "p1", "queued")]
    assert sc.do(Submit(5, "j2", "qpu1", session="s1")) == [J(5, "j2", "queued")]
    assert sc.do(FinishJob(10, "j1", "completed")) == [J(10, "j1", "completed"), J(10, "j2", "running")]
    assert sc.job("p1").state == "queued"
    sc.finish()


def test_statement_04_ittl_expiry_deactivates_and_normal_selection_resumes() -> None:
    """With no session job queued within the ITTL, the session goes inactive and a plain job starts."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1"))
    assert sc.do(Submit(5, "p1", "qpu1")) == [J(5, "p1", "queued")]
    assert sc.do(FinishJob(10, "j1", "completed")) == [J(10, "j1", "completed")]
    assert sc.do(Advance(69)) == []
    assert sc.do(Advance(80)) == [S(70, "s1", "inactive"), J(70, "p1", "running")]
    sc.finish()


def test_statement_05_a_job_reactivates_an_inactive_session_through_the_normal_queue() -> None:
    """A job of an inactive session waits its turn in the fair-share queue, then reactivates the session."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1", instance="lab"))
    sc.do(FinishJob(10, "j1", "completed"))
    assert sc.do(Advance(70)) == [S(70, "s1", "inactive")]
    assert sc.do(Submit(71, "p1", "qpu1", instance="lab")) == [J(71, "p1", "queued"), J(71, "p1", "running")]
    assert sc.do(Submit(72, "p2", "qpu1", instance="lab")) == [J(72, "p2", "queued")]
    assert sc.do(Submit(73, "j2", "qpu1", session="s1", instance="lab")) == [J(73, "j2", "queued")]
    assert sc.do(FinishJob(80, "p1", "completed")) == [J(80, "p1", "completed"), J(80, "p2", "running")]
    assert sc.do(FinishJob(90, "p2", "completed")) == [
        J(90, "p2", "completed"),
        J(90, "j2", "running"),
        S(90, "s1", "active"),
    ]
    sc.finish()


def test_statement_06_at_max_timeout_queued_jobs_fail_and_running_jobs_finish() -> None:
    """At max TTL the session expires for good, its queued job fails and its running job runs on."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1", max_time=100))
    sc.do(Submit(0, "j1", "qpu1", session="s1", max_execution_time=500))
    assert sc.do(Submit(10, "j2", "qpu1", session="s1")) == [J(10, "j2", "queued")]
    assert sc.do(Advance(100)) == [S(100, "s1", "expired", False), J(100, "j2", "failed", reason=True)]
    assert sc.do(FinishJob(120, "j1", "completed")) == [J(120, "j1", "completed")]
    late = Submit(130, "j3", "qpu1", session="s1")
    assert_rejected(sc.do(late), late)
    assert (sc.session("s1").state, sc.session("s1").accepting) == ("expired", False)
    sc.finish()


def test_statement_07_cancel_ends_the_session_and_cancels_queued_jobs() -> None:
    """A session cancel ends it at once and cancels its queued job; the running job runs on."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1"))
    assert sc.do(Submit(5, "j2", "qpu1", session="s1")) == [J(5, "j2", "queued")]
    assert sc.do(CancelSession(10, "s1")) == [
        S(10, "s1", "canceled", False),
        J(10, "j2", "canceled", reason=True),
    ]
    assert sc.do(FinishJob(20, "j1", "completed")) == [J(20, "j1", "completed")]
    sc.finish()


def test_statement_08_close_stops_accepting_and_drains_queued_jobs_with_priority() -> None:
    """A closed session refuses new jobs but still runs its queued job ahead of plain jobs, then closes."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1"))
    assert sc.do(Submit(2, "j2", "qpu1", session="s1")) == [J(2, "j2", "queued")]
    assert sc.do(Submit(3, "p1", "qpu1")) == [J(3, "p1", "queued")]
    assert sc.do(CloseSession(5, "s1")) == [S(5, "s1", "active", False)]
    refused = Submit(6, "j3", "qpu1", session="s1")
    assert_rejected(sc.do(refused), refused)
    assert sc.do(FinishJob(10, "j1", "completed")) == [J(10, "j1", "completed"), J(10, "j2", "running")]
    assert sc.do(FinishJob(20, "j2", "completed")) == [
        J(20, "j2", "completed"),
        S(20, "s1", "closed", False),
        J(20, "p1", "running"),
    ]
    sc.finish()


def test_statement_09_leaving_the_context_manager_closes_the_session() -> None:
    """Closing at the end of a `with Session()` block closes an idle session at once and frees the backend."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1"))
    sc.do(FinishJob(10, "j1", "completed"))
    assert sc.do(Submit(15, "p1", "qpu1")) == [J(15, "p1", "queued")]
    assert sc.do(CloseSession(20, "s1")) == [S(20, "s1", "closed", False), J(20, "p1", "running")]
    sc.finish()


def test_statement_10_a_running_job_finishes_after_its_session_ended() -> None:
    """A job running when its session expires runs to its own end and keeps the backend until then."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1", max_time=50), Submit(0, "j1", "qpu1", session="s1"))
    assert sc.do(Submit(1, "p1", "qpu1")) == [J(1, "p1", "queued")]
    assert sc.do(Advance(50)) == [S(50, "s1", "expired", False)]
    assert sc.do(Advance(60)) == []
    assert sc.job("j1").state == "running"
    assert sc.do(FinishJob(70, "j1", "completed")) == [J(70, "j1", "completed"), J(70, "p1", "running")]
    sc.finish()


def test_statement_11_reservation_jobs_then_active_session_then_fair_share() -> None:
    """Per backend: reservation jobs first, then the active session's jobs, then the fair-share queue."""
    sc = Scenario(Config(interactive_ttl=60, reservations=(Reservation("qpu1", "res", 100, 200),)))
    sc.do(CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1"))
    assert sc.do(Submit(1, "j2", "qpu1", session="s1")) == [J(1, "j2", "queued")]
    assert sc.do(Submit(2, "p1", "qpu1", instance="lab")) == [J(2, "p1", "queued")]
    assert sc.do(Submit(3, "r1", "qpu1", instance="res")) == [J(3, "r1", "queued")]
    assert sc.do(Advance(100)) == []  # the window opens; the running job is not preempted
    assert sc.do(FinishJob(110, "j1", "completed")) == [J(110, "j1", "completed"), J(110, "r1", "running")]
    assert sc.do(FinishJob(120, "r1", "completed")) == [J(120, "r1", "completed"), J(120, "j2", "running")]
    assert sc.do(FinishJob(130, "j2", "completed")) == [J(130, "j2", "completed")]
    assert sc.do(Advance(190)) == [S(190, "s1", "inactive"), J(190, "p1", "running")]
    sc.finish()


def test_statement_12_max_ttl_is_min_of_system_limit_and_first_jobs_max_execution_time() -> None:
    """Max TTL = min(system limit, the first job's max_execution_time); later jobs do not change it."""
    sc = Scenario(Config(interactive_ttl=60, system_max_ttl=28800))
    sc.do(CreateSession(0, "s1", "qpu1"))
    sc.do(Submit(5, "j1", "qpu1", session="s1", max_execution_time=600))
    assert (sc.session("s1").max_ttl, sc.session("s1").expires_at) == (600, 605)
    sc.do(FinishJob(10, "j1", "completed"))
    assert sc.do(Submit(20, "j2", "qpu1", session="s1", max_execution_time=10000)) == [
        J(20, "j2", "queued"),
        J(20, "j2", "running"),
    ]
    sc.do(FinishJob(30, "j2", "completed"))
    assert sc.session("s1").expires_at == 605
    assert sc.do(Advance(604)) == [S(90, "s1", "inactive")]
    assert sc.do(Advance(605)) == [S(605, "s1", "expired", False)]
    sc.finish()

    small = Scenario(Config(interactive_ttl=60, system_max_ttl=300))
    small.do(CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1", max_execution_time=600))
    small.do(CreateSession(0, "s2", "qpu2"), Submit(0, "k1", "qpu2", session="s2"))
    assert small.session("s1").max_ttl == 300  # the system limit is smaller than the job's own
    assert small.session("s2").max_ttl == 300  # the job gave no max_execution_time
    assert small.do(Advance(300)) == [S(300, "s1", "expired", False), S(300, "s2", "expired", False)]
    small.finish()


def test_statement_13_jobs_api_plain_by_default_start_session_or_session_id() -> None:
    """A job is plain by default; start_session opens a session with it; a session id joins that session."""
    sc = Scenario(ITTL60)
    assert sc.do(Submit(0, "p1", "qpu1")) == [J(0, "p1", "queued"), J(0, "p1", "running")]
    assert [session.id for session in sc.world.sessions] == []
    assert sc.do(Submit(1, "j1", "qpu2", session="s1", start_session=True)) == [
        S(1, "s1", "pending"),
        J(1, "j1", "queued"),
        J(1, "j1", "running"),
        S(1, "s1", "active"),
    ]
    sc.do(FinishJob(2, "j1", "completed"))
    assert sc.do(Submit(3, "j2", "qpu2", session="s1")) == [J(3, "j2", "queued"), J(3, "j2", "running")]
    assert (sc.job("p1").session, sc.job("j1").session, sc.job("j2").session) == (None, "s1", "s1")
    assert [s.id for s in sc.world.sessions] == ["s1"]
    sc.finish()


def test_statement_14_session_jobs_pending_at_a_reservation_end_stay_queued() -> None:
    """A session job still queued when a reservation window ends does not fail; it runs afterwards."""
    sc = Scenario(Config(interactive_ttl=60, reservations=(Reservation("qpu1", "res", 0, 100),)))
    sc.do(CreateSession(10, "s1", "qpu1"))
    assert sc.do(Submit(10, "j1", "qpu1", session="s1", instance="res")) == [
        J(10, "j1", "queued"),
        J(10, "j1", "running"),
        S(10, "s1", "active"),
    ]
    assert sc.do(Submit(20, "j2", "qpu1", session="s1", instance="res")) == [J(20, "j2", "queued")]
    assert sc.do(Advance(100)) == []
    assert sc.job("j2").state == "queued"
    assert sc.do(FinishJob(120, "j1", "completed")) == [J(120, "j1", "completed"), J(120, "j2", "running")]
    sc.finish()


def test_statement_15_sessions_do_not_apply_to_simulators() -> None:
    """A simulator refuses create_session, runs a start_session job as a plain job, starts jobs at once."""
    sc = Scenario(Config.from_dict({"backends": [{"name": "sim", "simulator": True}], "interactive_ttl": 60}))
    create = CreateSession(0, "s1", "sim")
    assert_rejected(sc.do(create), create)
    assert sc.do(Submit(1, "j1", "sim", session="s2", start_session=True)) == [
        J(1, "j1", "queued", reason=True),
        J(1, "j1", "running"),
    ]
    assert sc.do(Submit(2, "j2", "sim")) == [J(2, "j2", "queued"), J(2, "j2", "running")]
    assert sc.world.sessions == ()
    assert sc.job("j1").session is None
    assert (sc.job("j1").state, sc.job("j2").state) == ("running", "running")
    sc.finish()


def test_statement_16_a_single_job_session_gains_nothing() -> None:
    """A session's only job starts exactly when the same job would start as a plain job."""

    def start_of_x(in_session: bool) -> object:
        """When job x starts, behind two older plain jobs, as a session job or as a plain one."""
        sc = Scenario(ITTL60)
        sc.do(Submit(0, "p1", "qpu1", instance="lab"), Submit(1, "p2", "qpu1", instance="lab"))
        if in_session:
            sc.do(CreateSession(2, "s1", "qpu1"))
        sc.do(Submit(2, "x", "qpu1", instance="lab", session="s1" if in_session else None))
        sc.do(FinishJob(10, "p1", "completed"), FinishJob(20, "p2", "completed"))
        assert started(sc) == [(0, "p1"), (10, "p2"), (20, "x")]
        sc.finish()
        return sc.job("x").started_at

    assert start_of_x(in_session=True) == start_of_x(in_session=False) == 20


# --------------------------------------------------------------------------- gaps 1-16


def test_gap_01_backend_is_held_for_an_active_session_with_nothing_queued() -> None:
    """During the ITTL the backend idles for the active session; plain and other sessions' jobs wait."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1"))
    sc.do(FinishJob(10, "j1", "completed"))
    assert sc.do(Submit(20, "p1", "qpu1")) == [J(20, "p1", "queued")]
    assert sc.do(CreateSession(30, "s2", "qpu1")) == [S(30, "s2", "pending")]
    assert sc.do(Submit(31, "k1", "qpu1", session="s2")) == [J(31, "k1", "queued")]
    assert sc.do(Advance(69)) == []
    assert sc.world.running_on("qpu1") == ()
    assert sc.do(Advance(70)) == [S(70, "s1", "inactive"), J(70, "p1", "running")]
    sc.finish()


def test_gap_02_ittl_window_starts_when_the_session_has_nothing_left() -> None:
    """The ITTL runs from the end of the session's last job; a job queued inside the window stops it."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1"))
    assert sc.do(Submit(5, "j2", "qpu1", session="s1")) == [J(5, "j2", "queued")]
    assert sc.do(FinishJob(10, "j1", "completed")) == [J(10, "j1", "completed"), J(10, "j2", "running")]
    assert sc.do(FinishJob(30, "j2", "completed")) == [J(30, "j2", "completed")]
    assert sc.do(Advance(89)) == []  # the window started at 30, not at 10
    assert sc.do(Submit(89, "j3", "qpu1", session="s1")) == [J(89, "j3", "queued"), J(89, "j3", "running")]
    assert sc.do(FinishJob(100, "j3", "completed")) == [J(100, "j3", "completed")]
    assert sc.do(Advance(159)) == []
    assert sc.do(Advance(160)) == [S(160, "s1", "inactive")]
    sc.finish()


def test_gap_03_a_deadline_at_t_fires_before_an_input_stamped_t() -> None:
    """A session job submitted exactly when the ITTL or max TTL runs out arrives after the deadline fired."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1"))
    sc.do(FinishJob(10, "j1", "completed"))
    assert sc.do(Submit(20, "p1", "qpu1")) == [J(20, "p1", "queued")]
    assert sc.do(Submit(70, "j2", "qpu1", session="s1")) == [
        S(70, "s1", "inactive"),
        J(70, "p1", "running"),
        J(70, "j2", "queued"),
    ]
    sc.finish()

    ttl = Scenario(ITTL60)
    ttl.do(CreateSession(0, "s1", "qpu1", max_time=100), Submit(0, "j1", "qpu1", session="s1"))
    ttl.do(FinishJob(10, "j1", "completed"))
    late = Submit(100, "j2", "qpu1", session="s1")
    seen = ttl.do(late)
    assert seen[:2] == [S(70, "s1", "inactive"), S(100, "s1", "expired", False)]
    assert_rejected(seen[2:], late)
    ttl.finish()


def test_gap_04_expiry_fails_queued_jobs_with_a_reason_naming_the_expiry() -> None:
    """A queued job of a session reaching max TTL fails (not canceled), with a reason about the timeout."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1", max_time=100), Submit(0, "j1", "qpu1", session="s1"))
    sc.do(FinishJob(10, "j1", "completed"))
    assert sc.do(Advance(70)) == [S(70, "s1", "inactive")]
    assert sc.do(Submit(75, "p1", "qpu1")) == [J(75, "p1", "queued"), J(75, "p1", "running")]
    assert sc.do(Submit(80, "j2", "qpu1", session="s1")) == [J(80, "j2", "queued")]
    seen = sc.do(Advance(100))
    assert seen == [S(100, "s1", "expired", False), J(100, "j2", "failed", reason=True)]
    reason = str(seen[1]["reason"]).lower()
    assert "timeout" in reason or "expir" in reason, reason
    assert sc.job("p1").state == "running"
    sc.finish()


def test_gap_05_session_cancel_cancels_queued_jobs_with_a_reason_naming_the_cancel() -> None:
    """Canceling a pending session cancels its waiting first job with a reason about the cancel."""
    sc = Scenario(ITTL60)
    assert sc.do(Submit(0, "p1", "qpu1")) == [J(0, "p1", "queued"), J(0, "p1", "running")]
    assert sc.do(CreateSession(1, "s1", "qpu1")) == [S(1, "s1", "pending")]
    assert sc.do(Submit(2, "j1", "qpu1", session="s1")) == [J(2, "j1", "queued")]
    seen = sc.do(CancelSession(5, "s1"))
    assert seen == [S(5, "s1", "canceled", False), J(5, "j1", "canceled", reason=True)]
    assert "cancel" in str(seen[1]["reason"]).lower()
    assert sc.do(FinishJob(10, "p1", "completed")) == [J(10, "p1", "completed")]
    sc.finish()


def test_gap_06_a_closed_session_keeps_its_state_while_it_drains() -> None:
    """Close sets accepting=false at once; the state moves on while work remains, closed when none is left."""
    idle = Scenario(ITTL60)
    idle.do(CreateSession(0, "s1", "qpu1"))
    assert idle.do(CloseSession(1, "s1")) == [S(1, "s1", "closed", False)]
    idle.finish()

    draining = Scenario(ITTL60)
    draining.do(Submit(0, "p1", "qpu1"), CreateSession(0, "s1", "qpu1"))
    assert draining.do(Submit(1, "j1", "qpu1", session="s1")) == [J(1, "j1", "queued")]
    assert draining.do(CloseSession(2, "s1")) == [S(2, "s1", "pending", False)]
    assert draining.do(FinishJob(10, "p1", "completed")) == [
        J(10, "p1", "completed"),
        J(10, "j1", "running"),
        S(10, "s1", "active", False),
    ]
    assert draining.do(FinishJob(20, "j1", "completed")) == [
        J(20, "j1", "completed"),
        S(20, "s1", "closed", False),
    ]
    draining.finish()

    expiring = Scenario(ITTL60)
    expiring.do(CreateSession(0, "s1", "qpu1", max_time=50), Submit(0, "k1", "qpu1", session="s1"))
    assert expiring.do(Submit(1, "k2", "qpu1", session="s1")) == [J(1, "k2", "queued")]
    assert expiring.do(CloseSession(10, "s1")) == [S(10, "s1", "active", False)]
    assert expiring.do(Advance(50)) == [S(50, "s1", "expired", False), J(50, "k2", "failed", reason=True)]
    assert expiring.job("k1").state == "running"
    expiring.finish()


def test_gap_07_max_ttl_is_the_sessions_own_max_time_or_the_first_jobs_capped_by_the_system() -> None:
    """Max TTL = min(system limit, session max_time if given else first job's limit), from the first start."""
    sc = Scenario(Config(interactive_ttl=60, system_max_ttl=1000))
    sc.do(
        CreateSession(0, "s1", "qpu1", max_time=300),
        CreateSession(0, "s2", "qpu2"),
        CreateSession(0, "s3", "qpu3", max_time=5000),
        Submit(0, "p", "qpu1"),
    )
    assert sc.do(Submit(1, "j1", "qpu1", session="s1", max_execution_time=100)) == [J(1, "j1", "queued")]
    assert sc.session("s1").expires_at is None  # not fixed before the first job starts
    sc.do(Submit(1, "j2", "qpu2", session="s2", max_execution_time=2000))
    sc.do(Submit(1, "j3", "qpu3", session="s3"))
    assert (sc.session("s2").max_ttl, sc.session("s2").expires_at) == (1000, 1001)
    assert (sc.session("s3").max_ttl, sc.session("s3").expires_at) == (1000, 1001)
    assert sc.do(FinishJob(40, "p", "completed")) == [
        J(40, "p", "completed"),
        J(40, "j1", "running"),
        S(40, "s1", "active"),
    ]
    # the session's own max_time wins over the (smaller) first job's max_execution_time
    assert (sc.session("s1").max_ttl, sc.session("s1").expires_at) == (300, 340)
    sc.do(FinishJob(50, "j1", "completed"))
    assert sc.do(Advance(340)) == [S(110, "s1", "inactive"), S(340, "s1", "expired", False)]
    assert sc.do(Advance(1001)) == [S(1001, "s2", "expired", False), S(1001, "s3", "expired", False)]
    sc.finish()


def test_gap_08_reference_policy_is_least_used_instance_then_fifo() -> None:
    """The reference fair share starts the least-used instance's job, FIFO within an instance."""
    sc = Scenario(ITTL60)
    assert sc.do(Submit(0, "c0", "qpu1", instance="C")) == [J(0, "c0", "queued"), J(0, "c0", "running")]
    assert sc.do(Submit(1, "b0", "qpu1", instance="B")) == [J(1, "b0", "queued")]
    assert sc.do(FinishJob(10, "c0", "completed")) == [J(10, "c0", "completed"), J(10, "b0", "running")]
    assert sc.do(Submit(11, "a0", "qpu1", instance="A")) == [J(11, "a0", "queued")]
    assert sc.do(FinishJob(30, "b0", "completed")) == [J(30, "b0", "completed"), J(30, "a0", "running")]
    # usage so far: C=10, B=20, A=30 (a0 still running)
    sc.do(
        Submit(31, "a1", "qpu1", instance="A"),
        Submit(32, "b1", "qpu1", instance="B"),
        Submit(33, "c1", "qpu1", instance="C"),
        Submit(34, "c2", "qpu1", instance="C"),
    )
    # A=30, B=20, C=10: C is least used; c1 before c2; a1 (the oldest waiting job) is passed over
    assert sc.do(FinishJob(60, "a0", "completed")) == [J(60, "a0", "completed"), J(60, "c1", "running")]
    # A=30, B=20, C=50: B is least used
    assert sc.do(FinishJob(100, "c1", "completed")) == [J(100, "c1", "completed"), J(100, "b1", "running")]
    # A=30, B=25, C=50: no B job left; A is least used
    assert sc.do(FinishJob(105, "b1", "completed")) == [J(105, "b1", "completed"), J(105, "a1", "running")]
    assert sc.do(FinishJob(200, "a1", "completed")) == [J(200, "a1", "completed"), J(200, "c2", "running")]
    sc.finish()


def test_gap_09_the_scheduler_is_work_conserving() -> None:
    """A free backend starts a waiting job at the very instant it becomes free, whatever freed it."""
    sc = Scenario(ITTL60)
    sc.do(Submit(0, "p1", "qpu1"))
    assert sc.do(Submit(1, "p2", "qpu1")) == [J(1, "p2", "queued")]
    assert sc.do(FinishJob(10, "p1", "completed")) == [J(10, "p1", "completed"), J(10, "p2", "running")]
    assert sc.do(Submit(12, "p3", "qpu1", max_execution_time=20)) == [J(12, "p3", "queued")]
    assert sc.do(CancelJob(15, "p2")) == [J(15, "p2", "canceled", reason=True), J(15, "p3", "running")]
    assert sc.do(Submit(16, "p4", "qpu1")) == [J(16, "p4", "queued")]
    assert sc.do(Advance(35)) == [J(35, "p3", "failed", reason=True), J(35, "p4", "running")]
    assert sc.do(Submit(36, "q1", "qpu2")) == [J(36, "q1", "queued"), J(36, "q1", "running")]
    sc.finish()


def test_gap_10_reservation_jobs_go_first_inside_the_window_and_wait_as_plain_jobs_after() -> None:
    """In [start, end) reservation jobs precede the active session (no preemption); after it, plain jobs."""
    sc = Scenario(Config(interactive_ttl=60, reservations=(Reservation("qpu1", "res", 50, 100),)))
    sc.do(CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1"))
    assert sc.do(Submit(10, "j2", "qpu1", session="s1")) == [J(10, "j2", "queued")]
    assert sc.do(Submit(20, "r1", "qpu1", instance="res")) == [J(20, "r1", "queued")]
    assert sc.do(Submit(21, "r2", "qpu1", instance="res")) == [J(21, "r2", "queued")]
    assert sc.do(Advance(50)) == []  # the running session job is not preempted
    assert sc.do(FinishJob(60, "j1", "completed")) == [J(60, "j1", "completed"), J(60, "r1", "running")]
    assert sc.do(FinishJob(70, "r1", "completed")) == [J(70, "r1", "completed"), J(70, "r2", "running")]
    assert sc.do(Submit(80, "r3", "qpu1", instance="res")) == [J(80, "r3", "queued")]
    assert sc.do(Advance(100)) == []  # r3 neither fails nor starts when the window ends
    assert sc.do(FinishJob(110, "r2", "completed")) == [J(110, "r2", "completed"), J(110, "j2", "running")]
    assert sc.do(FinishJob(120, "j2", "completed")) == [J(120, "j2", "completed")]
    assert sc.do(Advance(180)) == [S(180, "s1", "inactive"), J(180, "r3", "running")]
    sc.finish()


def test_gap_10_a_session_job_of_the_reserving_instance_gets_no_reservation_priority() -> None:
    """In an open window, a session job of the reserving instance waits its fair-share turn (RSV-PRIORITY)."""
    sc = Scenario(Config(interactive_ttl=60, reservations=(Reservation("qpu1", "res", 0, 100),)))
    sc.do(Submit(0, "x", "qpu1", instance="other"))
    assert sc.do(Submit(1, "p", "qpu1", instance="other2")) == [J(1, "p", "queued")]
    sc.do(CreateSession(2, "s2", "qpu1"))
    assert sc.do(Submit(2, "js", "qpu1", session="s2", instance="res")) == [J(2, "js", "queued")]
    # first in, first out among equally used instances: p, although js is of the reserving instance
    assert sc.do(FinishJob(10, "x", "completed")) == [J(10, "x", "completed"), J(10, "p", "running")]
    assert "session" in RULES["RSV-PRIORITY"].statement  # the statement says what the check checks
    sc.finish()


def test_gap_11_a_start_session_job_on_a_simulator_runs_as_a_plain_job() -> None:
    """On a simulator start_session opens no session, the queued record says so, the job starts at once."""
    sc = Scenario(Config.from_dict({"backends": [{"name": "sim", "simulator": True}]}))
    seen = sc.do(Submit(0, "j1", "sim", session="s1", start_session=True))
    assert seen == [J(0, "j1", "queued", reason=True), J(0, "j1", "running")]
    assert "session" in str(seen[0]["reason"]).lower()
    assert sc.do(Submit(0, "j2", "sim", session="s2", start_session=True)) == [
        J(0, "j2", "queued", reason=True),
        J(0, "j2", "running"),
    ]
    assert sc.world.sessions == ()
    follow_up = Submit(1, "j3", "sim", session="s1")
    assert_rejected(sc.do(follow_up), follow_up)
    sc.finish()


def test_gap_12_a_single_job_can_be_canceled_queued_or_running() -> None:
    """cancel_job cancels a queued or a running job; the ITTL then starts at the cancel of the last one."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1"))
    assert sc.do(Submit(1, "j2", "qpu1", session="s1")) == [J(1, "j2", "queued")]
    assert sc.do(CancelJob(5, "j2")) == [J(5, "j2", "canceled", reason=True)]
    assert sc.do(CancelJob(8, "j1")) == [J(8, "j1", "canceled", reason=True)]
    assert sc.session("s1").state == "active"
    assert sc.do(Advance(67)) == []
    assert sc.do(Advance(68)) == [S(68, "s1", "inactive")]
    sc.finish()


def test_gap_13_a_job_that_runs_past_its_time_limit_fails() -> None:
    """A running job fails at min(max_execution_time, job_time_cap) with a reason saying it ran too long."""
    sc = Scenario(Config(interactive_ttl=60, job_time_cap=100))
    sc.do(Submit(0, "p1", "qpu1", max_execution_time=30))
    assert sc.do(Submit(1, "p2", "qpu1", max_execution_time=500)) == [J(1, "p2", "queued")]
    seen = sc.do(Advance(30))
    assert seen == [J(30, "p1", "failed", reason=True), J(30, "p2", "running")]
    reason = str(seen[0]["reason"]).lower()
    assert "limit" in reason or "long" in reason, reason
    assert sc.do(Advance(129)) == []
    assert sc.do(Advance(130)) == [J(130, "p2", "failed", reason=True)]
    assert sc.do(Submit(131, "p3", "qpu1")) == [J(131, "p3", "queued"), J(131, "p3", "running")]
    assert sc.do(Advance(231)) == [J(231, "p3", "failed", reason=True)]
    sc.finish()


def test_gap_14_pending_timeout_is_optional_and_spares_sessions_that_got_a_job() -> None:
    """With pending_timeout a jobless pending session closes, one with a job does not; off by default."""
    sc = Scenario(Config(interactive_ttl=60, pending_timeout=1800))
    sc.do(CreateSession(0, "s1", "qpu1"), CreateSession(0, "s2", "qpu2"), Submit(0, "p", "qpu2"))
    assert sc.do(Submit(1, "j1", "qpu2", session="s2")) == [J(1, "j1", "queued")]
    assert sc.do(Advance(1799)) == []
    assert sc.do(Advance(1800)) == [S(1800, "s1", "closed", False)]
    assert sc.session("s2").state == "pending"
    sc.finish()

    default = Scenario(Config())
    default.do(CreateSession(0, "s1", "qpu1"))
    assert default.do(Advance(1_000_000)) == []
    assert (default.session("s1").state, default.session("s1").accepting) == ("pending", True)
    default.finish()


def test_gap_15_inputs_that_cannot_apply_are_refused_and_change_nothing() -> None:
    """Each inapplicable input is answered by one rejected observation and leaves the world as it was."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1"))
    sc.do(
        CreateSession(0, "s2", "qpu2"),
        Submit(0, "k1", "qpu2", session="s2"),
        Submit(0, "k2", "qpu2", session="s2"),
    )
    sc.do(CloseSession(0, "s2"), CreateSession(0, "s3", "qpu3"), CancelSession(0, "s3"))
    sc.do(Submit(0, "p1", "qpu4"), FinishJob(1, "p1", "completed"))
    assert (sc.session("s2").state, sc.session("s2").accepting) == ("active", False)
    refusals: list[Input] = [
        CloseSession(2, "s2"),  # already closing
        CloseSession(2, "s3"),  # ended
        CancelSession(2, "s3"),  # ended
        CancelJob(2, "p1"),  # completed
        FinishJob(2, "p1", "completed"),  # completed
        FinishJob(2, "k2", "completed"),  # queued, not running
        Submit(2, "j1", "qpu1", session="s1"),  # job id in use
        CreateSession(2, "s1", "qpu1"),  # session id in use
        Submit(2, "j9", "qpu1", session="s3", start_session=True),  # session id in use
        Submit(2, "j9", "qpu2", session="s1"),  # backend differs from the session's
        Submit(2, "j9", "qpu2", session="s2"),  # session does not accept jobs
    ]
    for inp in refusals:
        before = sc.world
        assert_rejected(sc.do(inp), inp)
        assert sc.world == before._replace(now=inp.t)
    sc.finish()


def test_gap_16_max_ttl_is_handled_before_other_deadlines_at_the_same_instant() -> None:
    """A session expiring as its ITTL ends is only expired; a job limit due at expiry still fails the job."""
    sc = Scenario(ITTL60)
    sc.do(CreateSession(0, "s1", "qpu1", max_time=70), Submit(0, "j1", "qpu1", session="s1"))
    sc.do(CreateSession(0, "s2", "qpu2"), Submit(0, "k1", "qpu2", session="s2", max_execution_time=100))
    sc.do(FinishJob(10, "j1", "completed"))
    assert sc.do(Advance(70)) == [S(70, "s1", "expired", False)]
    assert sc.do(Advance(100)) == [S(100, "s2", "expired", False), J(100, "k1", "failed", reason=True)]
    sc.finish()


# --------------------------------------------------------------------------- whole traces

PROTOCOL_V1_EXAMPLE = """\
{"trace": "sessionspec", "version": 1, "config": {"interactive_ttl": 60}}
{"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1"}
{"t": 0, "event": "session", "session": "s1", "state": "pending", "accepting": true}
{"t": 1, "op": "submit", "job": "j1", "backend": "qpu1", "session": "s1", "max_execution_time": 600}
{"t": 1, "event": "job", "job": "j1", "state": "queued"}
{"t": 1, "event": "job", "job": "j1", "state": "running"}
{"t": 1, "event": "session", "session": "s1", "state": "active", "accepting": true}
{"t": 11, "op": "finish_job", "job": "j1", "outcome": "completed"}
{"t": 11, "event": "job", "job": "j1", "state": "completed"}
{"t": 71, "event": "session", "session": "s1", "state": "inactive", "accepting": true}
{"t": 80, "op": "advance"}
"""


def test_protocol_v1_example_trace_is_reproduced_exactly() -> None:
    """The model replays the example of protocol v1 section 1 and reports exactly its observations."""
    lines = [json.loads(line) for line in PROTOCOL_V1_EXAMPLE.splitlines()]
    header, records = lines[0], lines[1:]
    assert header["trace"] == "sessionspec" and header["version"] == 1
    sc = Scenario(Config.from_dict(header["config"]))
    expected = [r for r in records if "event" in r]
    for record in records:
        if "op" in record:
            sc.do(input_from_dict(record))
    assert sc.trace == expected
    sc.finish()


def test_iterative_session_holds_the_backend_until_the_ittl_after_the_last_job() -> None:
    """Three jobs with classical work between them run unqueued; a plain job starts as the ITTL ends."""
    sc = Scenario(ITTL60)
    assert sc.do(CreateSession(0, "s1", "qpu1")) == [S(0, "s1", "pending")]
    assert sc.do(Submit(1, "j1", "qpu1", session="s1", max_execution_time=600)) == [
        J(1, "j1", "queued"),
        J(1, "j1", "running"),
        S(1, "s1", "active"),
    ]
    assert sc.do(Submit(5, "p1", "qpu1", instance="other-user")) == [J(5, "p1", "queued")]
    assert sc.do(FinishJob(11, "j1", "completed")) == [J(11, "j1", "completed")]
    # 29 s of classical optimisation, then the next iteration
    assert sc.do(Submit(40, "j2", "qpu1", session="s1", max_execution_time=600)) == [
        J(40, "j2", "queued"),
        J(40, "j2", "running"),
    ]
    assert sc.do(FinishJob(50, "j2", "completed")) == [J(50, "j2", "completed")]
    # 50 s of classical work: still inside the 60 s window
    assert sc.do(Submit(100, "j3", "qpu1", session="s1", max_execution_time=600)) == [
        J(100, "j3", "queued"),
        J(100, "j3", "running"),
    ]
    assert sc.do(FinishJob(110, "j3", "completed")) == [J(110, "j3", "completed")]
    assert sc.do(Advance(169)) == []
    assert sc.job("p1").state == "queued"
    assert sc.do(Advance(170)) == [S(170, "s1", "inactive"), J(170, "p1", "running")]
    assert sc.job("p1").started_at == 170
    assert sc.do(CloseSession(180, "s1")) == [S(180, "s1", "closed", False)]
    assert started(sc) == [(1, "j1"), (40, "j2"), (100, "j3"), (170, "p1")]
    sc.finish()
