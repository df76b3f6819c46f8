"""Failures found once, kept as tests so they stay fixed."""

from __future__ import annotations

from sessionspec.invariants import Checker
from sessionspec.model.config import Config, Reservation
from sessionspec.model.inputs import Advance, CancelSession, CreateSession, FinishJob, Submit
from sessionspec.model.world import World


def test_job_entering_session_during_reservation_job_stops_ittl_countdown() -> None:
    """A session job queued behind a reservation job keeps its session active past the ITTL."""
    config = Config(interactive_ttl=60, reservations=(Reservation("qpu1", "r", 20, 1000),))
    checker = Checker(World.empty(config))
    for inp in (
        CreateSession(0, "s1", "qpu1"),
        Submit(1, "j1", "qpu1", session="s1"),
        FinishJob(11, "j1", "completed"),
        Submit(21, "rj", "qpu1", instance="r"),
        Submit(22, "j2", "qpu1", session="s1"),
        Advance(100),
    ):
        checker.apply(inp)
    session, job = checker.world.session("s1"), checker.world.job("j2")
    assert session is not None and job is not None
    assert (session.state, session.idle_since, job.state) == ("active", None, "queued")
    checker.apply(FinishJob(100, "rj", "completed"))
    job = checker.world.job("j2")
    assert job is not None and (job.state, job.started_at) == ("running", 100)


def test_later_job_of_pending_session_never_overtakes_its_first() -> None:
    """Fair share offers only a session's oldest queued job, so its jobs keep their order."""
    checker = Checker(World.empty(Config(job_time_cap=300)))
    for inp in (
        Submit(0, "j1", "qpu2", session="s1", start_session=True, instance="lab-a"),
        Submit(0, "j2", "qpu2", session="s3", start_session=True, instance="lab-a", max_execution_time=25),
        CancelSession(0, "s1"),  # no ITTL hold once j1 ends
        Submit(0, "j3", "qpu2", session="s3", instance="lab-b"),
        Advance(300),
    ):
        checker.apply(inp)
    first, second = checker.world.job("j2"), checker.world.job("j3")
    assert first is not None and second is not None
    assert (first.state, first.started_at, second.state) == ("running", 300, "queued")
