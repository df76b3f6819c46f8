"""Projections of model records onto what the real system shows.

The model keeps fewer, more precise states than IBM Qiskit Runtime exposes. These
functions say what the REST API and the qiskit-ibm-runtime client would report for a
model record (reference: docs/sources.md, facts "Exact enumerations"). Each projection
has two layers, REST first, then the client's mapping of the REST answer, so either
layer can be compared with a recording of the real system.

>>> from sessionspec.model.world import SessionRecord
>>> draining = SessionRecord("s1", "qpu1", None, "active", accepting=False, created_at=0)
>>> rest_session(draining)
RestSession(state='pending_closed', accepting_jobs=False)
>>> session_status(draining)
'In progress, not accepting new jobs'
"""

from __future__ import annotations

from typing import NamedTuple

from sessionspec.model.errors import InvalidInput
from sessionspec.model.world import ACTIVE, INACTIVE, PENDING, JobRecord, SessionRecord

# The REST API has one "closed" for every way a session ends.
_ENDED_SESSION_STATES = frozenset({"closed", "canceled", "expired"})

# qiskit-ibm-runtime Session.status() strings.
PENDING_STATUS = "Pending"
ACCEPTING_STATUS = "In progress, accepting new jobs"
NOT_ACCEPTING_STATUS = "In progress, not accepting new jobs"
CLOSED_STATUS = "Closed"

# A job stopped for exceeding its time limit is reported as Cancelled with this code.
RAN_TOO_LONG_REASON_CODE = 1305

_REST_JOB_STATUS = {
    "queued": "Queued",
    "running": "Running",
    "completed": "Completed",
    "canceled": "Cancelled",
    "failed": "Failed",
}

_CLIENT_JOB_STATUS = {
    "Queued": "QUEUED",
    "Running": "RUNNING",
    "Completed": "DONE",
    "Failed": "ERROR",
    "Cancelled": "CANCELLED",
}


class RestSession(NamedTuple):
    """The two REST session fields that decide the client's status string."""

    state: str
    accepting_jobs: bool


class RestJob(NamedTuple):
    """The REST job status and its numeric reason code, if the service gives one."""

    status: str
    reason_code: int | None


def rest_session_state(session: SessionRecord) -> str:
    """The REST API ``state`` of a session record."""
    if session.state == PENDING:
        # Still "open" after close() clears the flag: the client keeps saying "Pending" (#2188).
        return "open"
    if session.state == INACTIVE:
        return "inactive"
    if session.state == ACTIVE:
        if not session.accepting:
            return "pending_closed"  # closed by the user, draining its jobs
        if session.idle_since is not None:
            return "pending_inactive"  # counting down its interactive timeout
        return "active"
    if session.state in _ENDED_SESSION_STATES:
        return "closed"
    raise InvalidInput("session.state", session.state, "a Session state of model.declarations")


def rest_session(session: SessionRecord) -> RestSession:
    """The REST ``state`` and ``accepting_jobs`` of a session record."""
    return RestSession(rest_session_state(session), session.accepting)


def client_session_status(rest_state: str, accepting_jobs: bool) -> str:
    """What qiskit-ibm-runtime ``Session.status()`` returns for a REST state and flag."""
    if rest_state in ("open", "inactive"):
        return PENDING_STATUS
    if rest_state == "active":
        return ACCEPTING_STATUS if accepting_jobs else NOT_ACCEPTING_STATUS
    if rest_state == "pending_inactive":
        return ACCEPTING_STATUS
    if rest_state == "pending_closed":
        return NOT_ACCEPTING_STATUS
    if rest_state == "closed":
        return CLOSED_STATUS
    raise InvalidInput(
        "rest_state",
        rest_state,
        "one of open, active, inactive, pending_inactive, pending_closed, closed",
    )


def session_status(session: SessionRecord) -> str:
    """The client's ``Session.status()`` string for a session record."""
    rest = rest_session(session)
    return client_session_status(rest.state, rest.accepting_jobs)


def rest_job_status(job: JobRecord) -> RestJob:
    """The REST ``status`` and ``reason_code`` of a job record."""
    if job.state == "failed" and job.ended_by == "exceed_time_limit":
        # The model calls running too long a failure; the service reports a cancellation.
        return RestJob("Cancelled", RAN_TOO_LONG_REASON_CODE)
    if job.state not in _REST_JOB_STATUS:
        raise InvalidInput("job.state", job.state, "a Job state of model.declarations")
    return RestJob(_REST_JOB_STATUS[job.state], None)


def client_job_status(rest: RestJob) -> str:
    """What qiskit-ibm-runtime ``RuntimeJobV2.status()`` returns for a REST job status."""
    if rest.status == "Cancelled" and rest.reason_code == RAN_TOO_LONG_REASON_CODE:
        return "ERROR"  # the client raises RuntimeJobMaxTimeoutError for it
    if rest.status not in _CLIENT_JOB_STATUS:
        raise InvalidInput("rest.status", rest.status, f"one of {', '.join(_CLIENT_JOB_STATUS)}")
    return _CLIENT_JOB_STATUS[rest.status]


def job_status(job: JobRecord) -> str:
    """The client's ``RuntimeJobV2.status()`` string for a job record."""
    return client_job_status(rest_job_status(job))
