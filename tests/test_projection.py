"""Tests of model.projection against IBM's enumerations (docs/sources.md) and real model worlds."""

from __future__ import annotations

import pytest

from sessionspec.model.compiled import JOB, SESSION
from sessionspec.model.config import Config
from sessionspec.model.errors import InvalidInput
from sessionspec.model.inputs import (
    Advance,
    CancelJob,
    CancelSession,
    CloseSession,
    CreateSession,
    FinishJob,
    Input,
    Submit,
)
from sessionspec.model.projection import (
    RestJob,
    RestSession,
    client_job_status,
    client_session_status,
    job_status,
    rest_job_status,
    rest_session,
    rest_session_state,
    session_status,
)
from sessionspec.model.step import run
from sessionspec.model.world import JobRecord, SessionRecord, World

# Transcribed from docs/sources.md, facts "Exact enumerations".
REST_SESSION_STATES = ("open", "active", "inactive", "closed", "pending_inactive", "pending_closed")
REST_JOB_STATUSES = ("Queued", "Running", "Completed", "Cancelled", "Failed")
CLIENT_JOB_STATUSES = ("INITIALIZING", "QUEUED", "RUNNING", "DONE", "ERROR", "CANCELLED")

# The client's Session.status() table; "any" rows are written out for both flags.
CLIENT_SESSION_TABLE = (
    ("open", True, "Pending"),
    ("open", False, "Pending"),
    ("inactive", True, "Pending"),
    ("inactive", False, "Pending"),
    ("active", True, "In progress, accepting new jobs"),
    ("pending_inactive", True, "In progress, accepting new jobs"),
    ("pending_inactive", False, "In progress, accepting new jobs"),
    ("active", False, "In progress, not accepting new jobs"),
    ("pending_closed", True, "In progress, not accepting new jobs"),
    ("pending_closed", False, "In progress, not accepting new jobs"),
    ("closed", True, "Closed"),
    ("closed", False, "Closed"),
)

# The client's RuntimeJobV2.status() mapping of REST job statuses.
CLIENT_JOB_TABLE = (
    (RestJob("Queued", None), "QUEUED"),
    (RestJob("Running", None), "RUNNING"),
    (RestJob("Completed", None), "DONE"),
    (RestJob("Failed", None), "ERROR"),
    (RestJob("Cancelled", None), "CANCELLED"),
    (RestJob("Cancelled", 1305), "ERROR"),
)

# Model session (state, accepting, idle) -> REST state, as the projection is specified.
REST_SESSION_TABLE = (
    ("pending", True, False, "open"),
    ("pending", False, False, "open"),
    ("inactive", True, False, "inactive"),
    ("inactive", False, False, "inactive"),
    ("active", False, False, "pending_closed"),
    ("active", True, True, "pending_inactive"),
    ("active", True, False, "active"),
    ("closed", False, False, "closed"),
    ("canceled", False, False, "closed"),
    ("expired", False, False, "closed"),
)

# Model job (state, ended_by) -> REST (status, reason_code).
REST_JOB_TABLE = (
    ("queued", None, RestJob("Queued", None)),
    ("running", None, RestJob("Running", None)),
    ("completed", "complete", RestJob("Completed", None)),
    ("canceled", "cancel", RestJob("Cancelled", None)),
    ("canceled", "session_canceled", RestJob("Cancelled", None)),
    ("failed", "fail", RestJob("Failed", None)),
    ("failed", "session_expired", RestJob("Failed", None)),
    ("failed", "exceed_time_limit", RestJob("Cancelled", 1305)),
)


def make_session(state: str, *, accepting: bool = True, idle_since: int | None = None) -> SessionRecord:
    return SessionRecord("s1", "qpu1", None, state, accepting, 0, idle_since=idle_since)


def make_job(state: str, ended_by: str | None = None) -> JobRecord:
    return JobRecord("j1", "qpu1", None, "default", None, state, 0, ended_by=ended_by)


def world_after(inputs: list[Input], config: Config | None = None) -> World:
    return run(World.empty(config if config is not None else Config(interactive_ttl=60)), inputs).world


def session_of(world: World, session_id: str = "s1") -> SessionRecord:
    session = world.session(session_id)
    assert session is not None
    return session


def job_of(world: World, job_id: str) -> JobRecord:
    job = world.job(job_id)
    assert job is not None
    return job


# --- The tables, checked record by record ---------------------------------------


@pytest.mark.parametrize(("rest_state", "accepting", "expected"), CLIENT_SESSION_TABLE)
def test_client_session_status_follows_the_client_table(
    rest_state: str, accepting: bool, expected: str
) -> None:
    """Each row of the client's Session.status() table gives its documented string."""
    assert client_session_status(rest_state, accepting) == expected


def test_client_session_table_covers_every_rest_state() -> None:
    """The transcribed client table names every REST session state of the facts file."""
    assert {row[0] for row in CLIENT_SESSION_TABLE} == set(REST_SESSION_STATES)


@pytest.mark.parametrize("bad_state", ["", "Active", "expired", "canceled", "pending"])
def test_client_session_status_refuses_unknown_rest_states(bad_state: str) -> None:
    """An unknown REST session state raises InvalidInput (a ValueError) naming it."""
    with pytest.raises(InvalidInput) as caught:
        client_session_status(bad_state, True)
    assert isinstance(caught.value, ValueError)
    assert caught.value.field == "rest_state"
    assert repr(bad_state) in str(caught.value)


@pytest.mark.parametrize(("state", "accepting", "idle", "expected"), REST_SESSION_TABLE)
def test_rest_session_state_of_each_model_state(
    state: str, accepting: bool, idle: bool, expected: str
) -> None:
    """Each model session state, flag and ITTL window maps to its REST state."""
    session = make_session(state, accepting=accepting, idle_since=5 if idle else None)
    assert rest_session_state(session) == expected
    assert rest_session(session) == RestSession(expected, accepting)


@pytest.mark.parametrize(("rest", "expected"), CLIENT_JOB_TABLE)
def test_client_job_status_follows_the_client_mapping(rest: RestJob, expected: str) -> None:
    """Each REST job status maps to the documented RuntimeJobV2.status() value."""
    assert client_job_status(rest) == expected
    assert expected in CLIENT_JOB_STATUSES


def test_client_job_table_covers_every_rest_status() -> None:
    """The transcribed client job mapping names every REST job status of the facts file."""
    assert {rest.status for rest, _ in CLIENT_JOB_TABLE} == set(REST_JOB_STATUSES)


@pytest.mark.parametrize("bad_status", ["", "QUEUED", "Cancelled - Ran too long", "Done"])
def test_client_job_status_refuses_unknown_rest_statuses(bad_status: str) -> None:
    """An unknown REST job status raises InvalidInput (a ValueError) naming it."""
    with pytest.raises(InvalidInput) as caught:
        client_job_status(RestJob(bad_status, None))
    assert isinstance(caught.value, ValueError)
    assert repr(bad_status) in str(caught.value)


@pytest.mark.parametrize(("state", "ended_by", "expected"), REST_JOB_TABLE)
def test_rest_job_status_of_each_model_state(state: str, ended_by: str | None, expected: RestJob) -> None:
    """Each model job state (and how it ended) maps to its REST status and reason code."""
    assert rest_job_status(make_job(state, ended_by)) == expected


def test_every_declared_session_state_has_a_projection() -> None:
    """Every Session state of the declarations projects, whatever its flag and ITTL window."""
    for state in SESSION.states:
        for accepting in (True, False):
            for idle_since in (None, 5):
                session = make_session(state, accepting=accepting, idle_since=idle_since)
                assert rest_session_state(session) in REST_SESSION_STATES
                session_status(session)


def test_every_declared_job_state_and_ending_has_a_projection() -> None:
    """Every Job state of the declarations, ended by any declared event, projects."""
    for state in JOB.states:
        for ended_by in (None, *JOB.events):
            rest = rest_job_status(make_job(state, ended_by))
            assert rest.status in REST_JOB_STATUSES
            assert job_status(make_job(state, ended_by)) in CLIENT_JOB_STATUSES


# --- Worlds produced by the model ------------------------------------------------


def test_new_session_is_open_and_pending() -> None:
    """A freshly created session shows as open, accepting, "Pending"."""
    session = session_of(world_after([CreateSession(0, "s1", "qpu1")]))
    assert rest_session(session) == RestSession("open", True)
    assert session_status(session) == "Pending"


def test_session_running_a_job_is_active() -> None:
    """A session whose job runs shows as active, "In progress, accepting new jobs"."""
    world = world_after([CreateSession(0, "s1", "qpu1"), Submit(1, "j1", "qpu1", session="s1")])
    assert rest_session(session_of(world)) == RestSession("active", True)
    assert session_status(session_of(world)) == "In progress, accepting new jobs"
    assert rest_job_status(job_of(world, "j1")) == RestJob("Running", None)
    assert job_status(job_of(world, "j1")) == "RUNNING"


def test_session_in_its_ittl_window_is_pending_inactive() -> None:
    """After its job completes, a session in its ITTL window is pending_inactive, accepting."""
    world = world_after(
        [
            CreateSession(0, "s1", "qpu1"),
            Submit(1, "j1", "qpu1", session="s1"),
            FinishJob(11, "j1", "completed"),
        ]
    )
    session = session_of(world)
    assert (session.state, session.idle_since) == ("active", 11)
    assert rest_session(session) == RestSession("pending_inactive", True)
    assert session_status(session) == "In progress, accepting new jobs"
    assert rest_job_status(job_of(world, "j1")) == RestJob("Completed", None)
    assert job_status(job_of(world, "j1")) == "DONE"


def test_session_after_its_ittl_is_inactive_and_pending() -> None:
    """Once the ITTL runs out, the session is inactive and the client says "Pending"."""
    world = world_after(
        [
            CreateSession(0, "s1", "qpu1"),
            Submit(1, "j1", "qpu1", session="s1"),
            FinishJob(11, "j1", "completed"),
            Advance(71),
        ]
    )
    assert rest_session(session_of(world)) == RestSession("inactive", True)
    assert session_status(session_of(world)) == "Pending"


def test_closed_session_with_a_running_job_is_pending_closed() -> None:
    """A session closed while its job runs drains: pending_closed, not accepting."""
    world = world_after(
        [
            CreateSession(0, "s1", "qpu1"),
            Submit(1, "j1", "qpu1", session="s1"),
            CloseSession(5, "s1"),
        ]
    )
    assert rest_session(session_of(world)) == RestSession("pending_closed", False)
    assert session_status(session_of(world)) == "In progress, not accepting new jobs"


def test_drained_session_is_closed() -> None:
    """When the last job of a closed session ends, the session shows "Closed"."""
    world = world_after(
        [
            CreateSession(0, "s1", "qpu1"),
            Submit(1, "j1", "qpu1", session="s1"),
            CloseSession(5, "s1"),
            FinishJob(9, "j1", "failed"),
        ]
    )
    assert rest_session(session_of(world)) == RestSession("closed", False)
    assert session_status(session_of(world)) == "Closed"
    assert rest_job_status(job_of(world, "j1")) == RestJob("Failed", None)
    assert job_status(job_of(world, "j1")) == "ERROR"


def test_closed_pending_session_with_a_queued_job_still_says_pending() -> None:
    """A session closed before its queued job ran stays open, not accepting, "Pending"."""
    world = world_after(
        [
            Submit(0, "plain", "qpu1"),
            CreateSession(1, "s1", "qpu1"),
            Submit(2, "j1", "qpu1", session="s1"),
            CloseSession(3, "s1"),
        ]
    )
    assert rest_session(session_of(world)) == RestSession("open", False)
    assert session_status(session_of(world)) == "Pending"
    assert job_status(job_of(world, "j1")) == "QUEUED"


def test_job_over_its_time_limit_is_cancelled_1305_and_error() -> None:
    """A job stopped by its own time limit shows Cancelled, reason 1305; the client says ERROR."""
    world = world_after(
        [
            CreateSession(0, "s1", "qpu1"),
            Submit(1, "j1", "qpu1", session="s1", max_execution_time=10),
            Advance(20),
        ]
    )
    job = job_of(world, "j1")
    assert (job.state, job.ended_by) == ("failed", "exceed_time_limit")
    assert rest_job_status(job) == RestJob("Cancelled", 1305)
    assert job_status(job) == "ERROR"


def test_expired_session_is_closed_and_its_queued_job_failed() -> None:
    """At max TTL the session shows "Closed"; its queued job shows Failed, ERROR."""
    world = world_after(
        [
            CreateSession(0, "s1", "qpu1", max_time=100),
            Submit(1, "j1", "qpu1", session="s1"),
            Submit(2, "j2", "qpu1", session="s1"),
            Advance(200),
        ]
    )
    assert session_of(world).state == "expired"
    assert rest_session(session_of(world)) == RestSession("closed", False)
    assert session_status(session_of(world)) == "Closed"
    assert job_status(job_of(world, "j1")) == "RUNNING"  # a running job carries on
    assert rest_job_status(job_of(world, "j2")) == RestJob("Failed", None)
    assert job_status(job_of(world, "j2")) == "ERROR"


def test_canceled_session_is_closed_and_its_queued_job_cancelled() -> None:
    """A canceled session shows "Closed"; its queued job shows Cancelled, CANCELLED."""
    world = world_after(
        [
            CreateSession(0, "s1", "qpu1"),
            Submit(1, "j1", "qpu1", session="s1"),
            Submit(2, "j2", "qpu1", session="s1"),
            CancelSession(3, "s1"),
        ]
    )
    assert rest_session(session_of(world)) == RestSession("closed", False)
    assert session_status(session_of(world)) == "Closed"
    assert rest_job_status(job_of(world, "j2")) == RestJob("Cancelled", None)
    assert job_status(job_of(world, "j2")) == "CANCELLED"


def test_job_canceled_by_the_user_is_cancelled() -> None:
    """A running job canceled by the user shows Cancelled with no reason code."""
    world = world_after([Submit(0, "j1", "qpu1"), CancelJob(4, "j1")])
    assert rest_job_status(job_of(world, "j1")) == RestJob("Cancelled", None)
    assert job_status(job_of(world, "j1")) == "CANCELLED"
