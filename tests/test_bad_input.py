"""Invalid operations: a refusal or a typed, clearly worded error; never a crash or a half-changed world.

Two kinds of bad input exist. An input that is well formed but cannot apply to the
current world (unknown session or job, a session that does not accept jobs, a job
whose backend differs from its session's, ...) is *refused*: the model answers with
exactly one ``rejected`` observation and the world stays as it was, apart from its
clock moving to the input's instant. An input that is malformed (bad durations,
negative or backwards times, empty ids, unknown operations or fields, ...) raises
:class:`~sessionspec.model.errors.InvalidInput` (or its subclass
:class:`~sessionspec.model.errors.TimeWentBackwards`) before anything changes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionspec.invariants import Checker
from sessionspec.model.config import Config, Reservation
from sessionspec.model.errors import InvalidInput, SessionSpecError, TimeWentBackwards
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
from sessionspec.model.observations import Rejected
from sessionspec.model.step import Step, run, step, transitions
from sessionspec.model.world import World

CONFIG = Config(interactive_ttl=60)
SIM_CONFIG = Config(simulators=frozenset({"sim"}), backends=("qpu1", "qpu2", "sim"), interactive_ttl=60)

INPUT_TYPES = (CreateSession, Submit, CloseSession, CancelSession, CancelJob, FinishJob, Advance)


def session_state(world: World, session_id: str) -> tuple[str, bool]:
    """The (state, accepting) pair of a session that must exist."""
    session = world.session(session_id)
    assert session is not None, session_id
    return session.state, session.accepting


def job_state(world: World, job_id: str) -> str:
    """The state of a job that must exist."""
    job = world.job(job_id)
    assert job is not None, job_id
    return job.state


def loose(kind: Callable[..., Any], *args: object, **kwargs: object) -> Input:
    """Build an input with deliberately ill-typed fields, as a careless caller might."""
    return cast(Input, kind(*args, **kwargs))


def busy_world() -> World:
    """A world at t=20 with sessions and jobs in every interesting state and no deadline before t=60.

    * ``s-active`` on qpu1: active, ``j-run`` running (limit 10800), ``j-queued`` queued.
    * ``s-draining`` on qpu2: closed to new jobs while ``j-drain`` still runs.
    * ``s-canceled`` on qpu3: canceled.
    * ``s-closed`` on qpu4: closed (it never got a job).
    * ``s-pending`` on qpu1: pending (waiting behind the active session).
    * ``p-done`` on qpu5: a completed plain job.
    """
    inputs: list[Input] = [
        CreateSession(0, "s-active", "qpu1"),
        Submit(0, "j-run", "qpu1", session="s-active"),
        Submit(1, "j-queued", "qpu1", session="s-active"),
        CreateSession(2, "s-draining", "qpu2"),
        Submit(2, "j-drain", "qpu2", session="s-draining"),
        CloseSession(3, "s-draining"),
        CreateSession(4, "s-canceled", "qpu3"),
        CancelSession(5, "s-canceled"),
        CreateSession(6, "s-closed", "qpu4"),
        CloseSession(7, "s-closed"),
        CreateSession(8, "s-pending", "qpu1"),
        Submit(9, "p-done", "qpu5"),
        FinishJob(10, "p-done", "completed"),
        Advance(20),
    ]
    world = run(World.empty(CONFIG), inputs).world
    assert session_state(world, "s-active") == ("active", True)
    assert session_state(world, "s-draining") == ("active", False)
    assert session_state(world, "s-canceled") == ("canceled", False)
    assert session_state(world, "s-closed") == ("closed", False)
    assert session_state(world, "s-pending") == ("pending", True)
    assert job_state(world, "j-run") == "running"
    assert job_state(world, "j-queued") == "queued"
    assert job_state(world, "p-done") == "completed"
    return world


def expired_world() -> World:
    """A world at t=200 where session ``s-exp`` on qpu1 expired at t=100 (max_time 100)."""
    inputs: list[Input] = [
        CreateSession(0, "s-exp", "qpu1", max_time=100),
        Submit(0, "j1", "qpu1", session="s-exp"),
        FinishJob(10, "j1", "completed"),
        Advance(200),
    ]
    world = run(World.empty(CONFIG), inputs).world
    assert session_state(world, "s-exp") == ("expired", False)
    return world


def sim_world() -> World:
    """A world with a simulator backend and nothing else."""
    return World.empty(SIM_CONFIG)


def assert_refused(world: World, inp: Input) -> Rejected:
    """``inp`` is refused with one ``rejected`` observation and the world only moves its clock."""
    result = step(world, inp)
    assert len(result.observations) == 1, result.observations
    (rejection,) = result.observations
    assert isinstance(rejection, Rejected)
    assert rejection.t == inp.t
    assert rejection.op == inp.op
    assert isinstance(rejection.reason, str) and rejection.reason.strip()
    if rejection.job is not None:
        assert rejection.job == getattr(inp, "job", None)
    if rejection.session is not None:
        assert rejection.session == getattr(inp, "session", None)
    assert result.world == world._replace(now=inp.t)
    record = rejection.to_dict()
    assert record["event"] == "rejected"
    assert set(record) <= {"t", "event", "op", "job", "session", "reason"}
    # The refusing transition itself leaves its world untouched.
    last = list(transitions(world, inp))[-1]
    assert last.after == last.before
    assert last.observations == (rejection,)
    return rejection


REFUSALS: list[tuple[str, Callable[[], World], Input]] = [
    # unknown session or job
    ("submit-unknown-session", busy_world, Submit(30, "j-new", "qpu1", session="nope")),
    ("close-unknown-session", busy_world, CloseSession(30, "nope")),
    ("cancel-unknown-session", busy_world, CancelSession(30, "nope")),
    ("cancel-unknown-job", busy_world, CancelJob(30, "nope")),
    ("finish-unknown-job", busy_world, FinishJob(30, "nope", "completed")),
    # a session that does not accept jobs
    ("submit-to-draining-session", busy_world, Submit(30, "j-new", "qpu2", session="s-draining")),
    ("submit-to-canceled-session", busy_world, Submit(30, "j-new", "qpu3", session="s-canceled")),
    ("submit-to-closed-session", busy_world, Submit(30, "j-new", "qpu4", session="s-closed")),
    ("submit-to-expired-session", expired_world, Submit(300, "j-new", "qpu1", session="s-exp")),
    # a job whose backend differs from its session's
    ("submit-backend-differs-active", busy_world, Submit(30, "j-new", "qpu2", session="s-active")),
    ("submit-backend-differs-pending", busy_world, Submit(30, "j-new", "qpu9", session="s-pending")),
    # other inputs that cannot apply (reading, gap 15)
    ("close-draining-session-again", busy_world, CloseSession(30, "s-draining")),
    ("close-closed-session", busy_world, CloseSession(30, "s-closed")),
    ("close-canceled-session", busy_world, CloseSession(30, "s-canceled")),
    ("close-expired-session", expired_world, CloseSession(300, "s-exp")),
    ("cancel-canceled-session", busy_world, CancelSession(30, "s-canceled")),
    ("cancel-closed-session", busy_world, CancelSession(30, "s-closed")),
    ("cancel-expired-session", expired_world, CancelSession(300, "s-exp")),
    ("cancel-completed-job", busy_world, CancelJob(30, "p-done")),
    ("finish-completed-job", busy_world, FinishJob(30, "p-done", "failed")),
    ("finish-queued-job", busy_world, FinishJob(30, "j-queued", "completed")),
    ("reuse-job-id", busy_world, Submit(30, "j-run", "qpu1", session="s-active")),
    ("reuse-job-id-plain", busy_world, Submit(30, "p-done", "qpu5")),
    ("reuse-session-id", busy_world, CreateSession(30, "s-active", "qpu1")),
    ("reuse-ended-session-id", busy_world, CreateSession(30, "s-canceled", "qpu3")),
    (
        "start-session-reused-id",
        busy_world,
        Submit(30, "j-new", "qpu1", session="s-pending", start_session=True),
    ),
    ("create-session-on-simulator", sim_world, CreateSession(0, "s1", "sim")),
    ("submit-to-unknown-session-on-simulator", sim_world, Submit(0, "j1", "sim", session="s1")),
]


@pytest.mark.parametrize(("make_world", "inp"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_inputs_that_cannot_apply_are_refused_and_change_nothing(
    make_world: Callable[[], World], inp: Input
) -> None:
    """An input that cannot apply gives exactly one rejected observation and leaves the world as it was."""
    assert_refused(make_world(), inp)


def test_refusal_at_the_same_instant_keeps_the_clock() -> None:
    """A refusal stamped at the world's own instant returns a world equal to the one given."""
    world = busy_world()
    result = step(world, CancelJob(world.now, "nope"))
    assert result.world == world
    assert [o.to_dict()["event"] for o in result.observations] == ["rejected"]


def test_refusal_after_deadlines_changes_only_what_the_deadlines_changed() -> None:
    """When deadlines fire before a refused input, the world after is the world after those deadlines."""
    world = run(
        World.empty(CONFIG),
        [
            CreateSession(0, "s1", "qpu1"),
            Submit(0, "j1", "qpu1", session="s1"),
            FinishJob(10, "j1", "completed"),
        ],
    ).world
    steps = list(transitions(world, CloseSession(100, "nope")))
    assert len(steps) == 2
    deadline, refusal = steps
    assert [o.to_dict() for o in deadline.observations] == [
        {"t": 70, "event": "session", "session": "s1", "state": "inactive", "accepting": True}
    ]
    assert refusal.before == refusal.after == deadline.after._replace(now=100)
    assert [type(o) for o in refusal.observations] == [Rejected]


def test_refusals_are_answered_in_the_trace_vocabulary() -> None:
    """A refusal names the op and the ids involved, with a reason for people."""
    rejection = assert_refused(busy_world(), Submit(30, "j-new", "qpu2", session="s-active"))
    record = rejection.to_dict()
    assert record["t"] == 30 and record["op"] == "submit"
    assert record.get("job", "j-new") == "j-new"
    assert record.get("session", "s-active") == "s-active"
    assert "qpu" in rejection.reason  # it says which backend the session runs on


def test_refusals_pass_the_rule_checker() -> None:
    """Each refusal also satisfies every rule of the catalogue (INP-ANSWERED, NOTHING-LOST, ...)."""
    for _name, make_world, inp in REFUSALS:
        checker = Checker(make_world())
        before = checker.world
        after = checker.apply(inp)
        assert after == before._replace(now=inp.t)


# --------------------------------------------------------------------------- typed errors


def assert_invalid(
    error: pytest.ExceptionInfo[InvalidInput], field: str, *accepted: str, value: object = ...
) -> None:
    """The error is typed, names ``field``, and says what is accepted instead."""
    exc = error.value
    assert isinstance(exc, InvalidInput)
    assert isinstance(exc, ValueError)
    assert isinstance(exc, SessionSpecError)
    assert exc.field == field
    assert isinstance(exc.hint, str) and exc.hint.strip()
    message = str(exc)
    assert field in message, message
    assert exc.hint in message, message
    assert "Traceback" not in message
    for words in accepted:
        assert words in message, f"{words!r} not in {message!r}"
    if value is not ...:
        if isinstance(value, float) and math.isnan(value):
            assert isinstance(exc.value, float) and math.isnan(exc.value)
        else:
            assert exc.value == value and type(exc.value) is type(value)


def raises_unchanged(world: World, inp: object) -> pytest.ExceptionInfo[InvalidInput]:
    """``step`` raises InvalidInput for ``inp``; a checker fed the same input keeps its world."""
    with pytest.raises(InvalidInput) as error:
        step(world, cast(Input, inp))
    checker = Checker(world)
    with pytest.raises(InvalidInput):
        checker.apply(cast(Input, inp))
    assert checker.world is world
    assert checker.history == []
    return error


def test_time_going_backwards_is_a_typed_error() -> None:
    """An input stamped before the world's clock raises TimeWentBackwards naming t and the clock."""
    world = busy_world()  # now == 20
    for inp in (
        Advance(19),
        Submit(5, "j-new", "qpu1"),
        CancelJob(0, "j-run"),
        FinishJob(19.5, "j-run", "completed"),
        CloseSession(10, "nope"),
    ):
        error = raises_unchanged(world, inp)
        exc = error.value
        assert isinstance(exc, TimeWentBackwards)
        assert exc.now == 20 and exc.t == inp.t
        assert_invalid(error, "t", "20", ">= 20", value=inp.t)


def test_time_going_backwards_fires_no_deadline_and_yields_nothing() -> None:
    """A backwards input is refused before any transition, even though it is checked lazily."""
    world = run(World.empty(CONFIG), [CreateSession(0, "s1", "qpu1"), Advance(50)]).world
    produced = transitions(world, Advance(40))
    with pytest.raises(TimeWentBackwards):
        next(produced)


BAD_DURATIONS: list[object] = [
    -1,
    -0.5,
    0,
    0.0,
    -0.0,
    math.nan,
    math.inf,
    -math.inf,
    True,
    False,
    "10",
    "",
    [5],
    {},
]


@pytest.mark.parametrize("bad", BAD_DURATIONS, ids=repr)
def test_bad_max_execution_time_is_a_typed_error(bad: object) -> None:
    """max_execution_time must be a finite number of seconds > 0: step() and records agree."""
    error = raises_unchanged(World.empty(CONFIG), loose(Submit, 0, "j1", "qpu1", max_execution_time=bad))
    assert_invalid(error, "max_execution_time", "seconds", "> 0", value=bad)
    with pytest.raises(InvalidInput) as parsed:
        input_from_dict({"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "max_execution_time": bad})
    assert_invalid(parsed, "max_execution_time", "seconds", "> 0", value=bad)


@pytest.mark.parametrize("bad", BAD_DURATIONS, ids=repr)
def test_bad_session_max_time_is_a_typed_error(bad: object) -> None:
    """A session's max_time must be a finite number of seconds > 0: step() and records agree."""
    error = raises_unchanged(World.empty(CONFIG), loose(CreateSession, 0, "s1", "qpu1", max_time=bad))
    assert_invalid(error, "max_time", "seconds", "> 0", value=bad)
    with pytest.raises(InvalidInput) as parsed:
        input_from_dict({"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1", "max_time": bad})
    assert_invalid(parsed, "max_time", "seconds", "> 0", value=bad)


BAD_INSTANTS: list[object] = [-1, -0.001, math.nan, math.inf, -math.inf, True, False, "0", None, [0]]


@pytest.mark.parametrize("bad", BAD_INSTANTS, ids=repr)
def test_bad_instant_is_a_typed_error(bad: object) -> None:
    """t must be a finite number of seconds >= 0 (negative, NaN, infinite, bool or text are refused)."""
    for inp in (loose(Advance, bad), loose(CancelJob, bad, "j1"), loose(Submit, bad, "j1", "qpu1")):
        error = raises_unchanged(World.empty(CONFIG), inp)
        assert_invalid(error, "t", "seconds", ">= 0", value=bad)
    with pytest.raises(InvalidInput) as parsed:
        input_from_dict({"t": bad, "op": "advance"})
    assert_invalid(parsed, "t", ">= 0", value=bad)


def test_huge_integers_are_refused_or_accepted_never_a_crash() -> None:
    """A JSON integer too large for a float (10**400) as t or a duration gives an input or InvalidInput."""
    huge = 10**400
    records: list[dict[str, Any]] = [
        {"t": huge, "op": "advance"},
        {"t": -huge, "op": "advance"},
        {"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "max_execution_time": huge},
        {"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1", "max_time": huge},
    ]
    for record in records:
        try:
            inp = input_from_dict(record)
        except InvalidInput as exc:
            assert exc.field in str(exc)
            continue
        step(World.empty(CONFIG), inp)


@pytest.mark.parametrize(
    ("inp", "field"),
    [
        (Submit(0, "", "qpu1"), "job"),
        (Submit(0, "j1", ""), "backend"),
        (Submit(0, "j1", "qpu1", session=""), "session"),
        (Submit(0, "j1", "qpu1", instance=""), "instance"),
        (loose(Submit, 0, "j1", "qpu1", instance=None), "instance"),
        (CreateSession(0, "", "qpu1"), "session"),
        (CreateSession(0, "s1", ""), "backend"),
        (CloseSession(0, ""), "session"),
        (CancelSession(0, ""), "session"),
        (CancelJob(0, ""), "job"),
        (FinishJob(0, "", "completed"), "job"),
        (loose(Submit, 0, 7, "qpu1"), "job"),
        (loose(CreateSession, 0, "s1", None), "backend"),
    ],
    ids=repr,
)
def test_empty_or_non_string_ids_are_typed_errors(inp: Input, field: str) -> None:
    """Identifiers must be non-empty strings; the error names the field."""
    error = raises_unchanged(World.empty(CONFIG), inp)
    assert_invalid(error, field, "non-empty string")


def test_empty_ids_in_records_are_typed_errors() -> None:
    """Records with an empty id are refused by input_from_dict with the field's name."""
    for record, field in (
        ({"t": 0, "op": "submit", "job": "", "backend": "qpu1"}, "job"),
        ({"t": 0, "op": "create_session", "session": "s1", "backend": ""}, "backend"),
        ({"t": 0, "op": "cancel_job", "job": ""}, "job"),
        ({"t": 0, "op": "close_session", "session": 3}, "session"),
    ):
        with pytest.raises(InvalidInput) as error:
            input_from_dict(record)
        assert_invalid(error, field, "non-empty string")


@pytest.mark.parametrize("op", ["explode", "Submit", "", None, 3, "deadline"], ids=repr)
def test_unknown_op_is_a_typed_error(op: object) -> None:
    """An unknown op is refused; the message lists the known ops."""
    with pytest.raises(InvalidInput) as error:
        input_from_dict({"t": 0, "op": op})
    assert_invalid(error, "op", "create_session", "submit", "advance", value=op)


def test_unhashable_op_is_a_typed_error() -> None:
    """An op that is a JSON list or object is refused like any other unknown op."""
    for op in ([], ["submit"], {}, {"op": "submit"}):
        with pytest.raises(InvalidInput) as error:
            input_from_dict({"t": 0, "op": op})
        assert_invalid(error, "op", "submit")


def test_missing_op_is_a_typed_error() -> None:
    """A record without op is refused and told which ops exist."""
    with pytest.raises(InvalidInput) as error:
        input_from_dict({"t": 0, "job": "j1"})
    assert_invalid(error, "op", "submit", value=None)


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"op": "advance"}, "t"),
        ({"t": 0, "op": "submit", "job": "j1"}, "backend"),
        ({"t": 0, "op": "submit", "backend": "qpu1"}, "job"),
        ({"t": 0, "op": "create_session", "backend": "qpu1"}, "session"),
        ({"t": 0, "op": "close_session"}, "session"),
        ({"t": 0, "op": "cancel_session"}, "session"),
        ({"t": 0, "op": "cancel_job"}, "job"),
        ({"t": 0, "op": "finish_job", "job": "j1"}, "outcome"),
    ],
    ids=repr,
)
def test_missing_fields_are_typed_errors(record: dict[str, Any], field: str) -> None:
    """A record missing a required field is refused with that field's name and the op needing it."""
    with pytest.raises(InvalidInput) as error:
        input_from_dict(record)
    assert_invalid(error, field, str(record["op"]), "needs")


@pytest.mark.parametrize(
    ("record", "field"),
    [
        ({"t": 0, "op": "advance", "job": "j1"}, "job"),
        ({"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "priority": 1}, "priority"),
        ({"t": 0, "op": "create_session", "session": "s1", "backend": "qpu1", "max_ttl": 5}, "max_ttl"),
        ({"t": 0, "op": "cancel_job", "job": "j1", "session": "s1"}, "session"),
        ({"t": 0, "op": "finish_job", "job": "j1", "outcome": "completed", "reason": "x"}, "reason"),
        ({"t": 0, "op": "close_session", "session": "s1", "event": "session"}, "event"),
    ],
    ids=repr,
)
def test_unknown_extra_fields_are_typed_errors(record: dict[str, Any], field: str) -> None:
    """A record with a field its op does not take is refused, naming the field and the allowed ones."""
    with pytest.raises(InvalidInput) as error:
        input_from_dict(record)
    assert_invalid(error, field, str(record["op"]), "takes only", "t")


def test_start_session_without_session_id_is_a_typed_error() -> None:
    """start_session=true needs the new session's id in 'session', for records and for step()."""
    with pytest.raises(InvalidInput) as parsed:
        input_from_dict({"t": 0, "op": "submit", "job": "j1", "backend": "qpu1", "start_session": True})
    assert_invalid(parsed, "start_session", "session")
    error = raises_unchanged(World.empty(CONFIG), Submit(0, "j1", "qpu1", start_session=True))
    assert_invalid(error, "start_session", "session")


@pytest.mark.parametrize("bad", ["true", 1, 0.0, "", [True]], ids=repr)
def test_non_boolean_start_session_is_a_typed_error(bad: object) -> None:
    """start_session must be true or false."""
    record: dict[str, Any] = {
        "t": 0,
        "op": "submit",
        "job": "j1",
        "backend": "q",
        "session": "s",
        "start_session": bad,
    }
    with pytest.raises(InvalidInput) as error:
        input_from_dict(record)
    assert_invalid(error, "start_session", "true or false", value=bad)
    error = raises_unchanged(World.empty(CONFIG), loose(Submit, 0, "j1", "q", "s", bad))
    assert_invalid(error, "start_session", "true or false", value=bad)


@pytest.mark.parametrize("bad", ["done", "COMPLETED", "canceled", "", None, 1, True, ["completed"]], ids=repr)
def test_bad_outcome_is_a_typed_error(bad: object) -> None:
    """finish_job's outcome must be "completed" or "failed"."""
    with pytest.raises(InvalidInput) as parsed:
        input_from_dict({"t": 0, "op": "finish_job", "job": "j1", "outcome": bad})
    assert_invalid(parsed, "outcome", "completed", "failed", value=bad)
    world = run(World.empty(CONFIG), [Submit(0, "j1", "qpu1")]).world
    error = raises_unchanged(world, loose(FinishJob, 1, "j1", bad))
    assert_invalid(error, "outcome", "completed", "failed", value=bad)


# --------------------------------------------------------------------------- configuration


def config_error(raw: object) -> pytest.ExceptionInfo[InvalidInput]:
    """Config.from_dict(raw) raises InvalidInput; return it for inspection."""
    with pytest.raises(InvalidInput) as error:
        Config.from_dict(cast(Mapping[str, Any], raw))
    return error


@pytest.mark.parametrize("key", ["ittl", "max_ttl", "Interactive_TTL", "version", ""], ids=repr)
def test_config_unknown_keys_are_typed_errors(key: str) -> None:
    """A configuration key outside protocol v1 is refused and the known keys are listed."""
    error = config_error({key: 60})
    assert_invalid(error, f"config.{key}", "interactive_ttl", "system_max_ttl", "job_time_cap")


@pytest.mark.parametrize("key", ["system_max_ttl", "interactive_ttl", "job_time_cap", "pending_timeout"])
@pytest.mark.parametrize("bad", [-1, 0, math.nan, math.inf, True, "60", [60]], ids=repr)
def test_config_bad_durations_are_typed_errors(key: str, bad: object) -> None:
    """Every configured duration must be a finite number of seconds > 0."""
    error = config_error({key: bad})
    assert_invalid(error, f"config.{key}", "seconds", "> 0", value=bad)


def test_config_pending_timeout_null_means_off() -> None:
    """pending_timeout null is the documented default (off), not an error."""
    assert Config.from_dict({"pending_timeout": None}).pending_timeout is None


@pytest.mark.parametrize(
    ("raw", "field", "accepted"),
    [
        ({"backends": [{"name": ""}]}, "config.backends[0].name", "non-empty string"),
        ({"backends": [{"simulator": True}]}, "config.backends[0].name", "non-empty string"),
        (
            {"backends": [{"name": "sim", "simulator": "yes"}]},
            "config.backends[0].simulator",
            "true or false",
        ),
        ({"backends": [{"name": "q", "fast": True}]}, "config.backends[0]", '"name": str'),
        ({"backends": ["qpu1"]}, "config.backends[0]", '"name": str'),
        ({"backends": [{"name": "q"}, {"name": "q"}]}, "config.backends[1].name", "once"),
    ],
    ids=repr,
)
def test_config_bad_backends_are_typed_errors(raw: dict[str, Any], field: str, accepted: str) -> None:
    """Backends must be objects {"name": non-empty str, "simulator": bool}, each listed once."""
    assert_invalid(config_error(raw), field, accepted)


@pytest.mark.parametrize("bad", [5, None, True, 1.5], ids=repr)
def test_config_backends_that_are_not_a_list_are_typed_errors(bad: object) -> None:
    """A backends value that is not a list is refused with a typed error naming config.backends."""
    error = config_error({"backends": bad})
    assert error.value.field.startswith("config.backends")
    assert "config.backends" in str(error.value)


@pytest.mark.parametrize("bad", [5, None, True, {"backend": "q"}], ids=repr)
def test_config_reservations_that_are_not_a_list_are_typed_errors(bad: object) -> None:
    """A reservations value that is not a list is refused with a typed error naming config.reservations."""
    error = config_error({"reservations": bad})
    assert error.value.field.startswith("config.reservations")
    assert "config.reservations" in str(error.value)


def reservation(**changes: Any) -> dict[str, Any]:
    """A valid reservation record [10, 20) on qpu1 for "lab", with some fields changed."""
    entry: dict[str, Any] = {"backend": "qpu1", "instance": "lab", "start": 10, "end": 20}
    entry.update(changes)
    return entry


@pytest.mark.parametrize("end", [10, 5, 0], ids=repr)
def test_config_reservation_ending_at_or_before_its_start_is_a_typed_error(end: int) -> None:
    """A reservation window [start, end) needs end > start; the error names end and shows start."""
    error = config_error({"reservations": [reservation(end=end)]})
    assert_invalid(error, "config.reservations[0].end", "after start", "10", value=end)


@pytest.mark.parametrize(
    ("entry", "field", "accepted"),
    [
        (reservation(start=-1), "config.reservations[0].start", ">= 0"),
        (reservation(start=math.nan), "config.reservations[0].start", ">= 0"),
        (reservation(end="20"), "config.reservations[0].end", ">= 0"),
        (reservation(backend=""), "config.reservations[0].backend", "non-empty string"),
        (reservation(instance=None), "config.reservations[0].instance", "non-empty string"),
        ({"backend": "qpu1", "instance": "lab", "start": 10}, "config.reservations[0]", '"end"'),
        (reservation(extra=1), "config.reservations[0]", '"start"'),
        ("qpu1", "config.reservations[0]", '"backend"'),
    ],
    ids=repr,
)
def test_config_bad_reservations_are_typed_errors(entry: object, field: str, accepted: str) -> None:
    """Reservations must be {"backend", "instance", "start", "end"} with valid values."""
    assert_invalid(config_error({"reservations": [entry]}), field, accepted)


def test_config_that_is_not_an_object_is_a_typed_error() -> None:
    """A configuration that is not a JSON object is refused."""
    not_objects: list[object] = [[], "interactive_ttl=60", 60, None]
    for raw in not_objects:
        assert_invalid(config_error(raw), "config", "object")


def test_config_from_valid_dict_round_trips() -> None:
    """A valid configuration is accepted and its dict form parses back to the same configuration."""
    config = Config.from_dict(
        {
            "backends": [{"name": "sim", "simulator": True}, {"name": "qpu1"}],
            "interactive_ttl": 30,
            "reservations": [reservation()],
            "pending_timeout": 1800,
        }
    )
    assert config.reservations == (Reservation("qpu1", "lab", 10, 20),)
    assert Config.from_dict(config.to_dict()) == config


# --------------------------------------------------------------------------- non-input objects


@pytest.mark.parametrize(
    "thing",
    [
        "advance",
        {"t": 0, "op": "advance"},
        None,
        42,
        (0,),
        Rejected(0, "advance", "not an input"),
        Reservation("qpu1", "lab", 0, 10),
    ],
    ids=repr,
)
def test_non_input_objects_passed_to_step_are_typed_errors(thing: object) -> None:
    """step() refuses anything that is not an input object, listing the input types."""
    error = raises_unchanged(World.empty(CONFIG), thing)
    assert_invalid(error, "input", "Submit", "Advance")


# --------------------------------------------------------------------------- property-based

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([10**400, -(10**400), 2**1024, -1, 0]),
    st.floats(),
    st.text(max_size=8),
    st.sampled_from(["completed", "failed", "qpu1", "s1", "j1", "default", "submit", "advance"]),
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)

OPS = ("create_session", "submit", "close_session", "cancel_session", "cancel_job", "finish_job", "advance")
FIELDS = (
    "t",
    "op",
    "session",
    "backend",
    "max_time",
    "job",
    "start_session",
    "instance",
    "max_execution_time",
    "outcome",
)


@st.composite
def records_around_real_fields(draw: st.DrawFn) -> dict[str, Any]:
    """A record with a mostly real op and a random subset of the real field names, each with any value."""
    record: dict[str, Any] = {}
    keys = draw(st.lists(st.sampled_from(FIELDS), unique=True, max_size=len(FIELDS)))
    for key in keys:
        record[key] = draw(JSON_VALUES)
    if draw(st.booleans()):
        record["op"] = draw(st.sampled_from(OPS))
    if draw(st.booleans()):
        record["t"] = draw(st.integers(min_value=0, max_value=100) | st.floats(min_value=0, max_value=100))
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        record[draw(st.text(min_size=1, max_size=6))] = draw(JSON_VALUES)
    return record


def parse_or_refuse(record: dict[str, Any]) -> Input | None:
    """input_from_dict either returns an input or raises InvalidInput; anything else escapes."""
    try:
        inp = input_from_dict(record)
    except InvalidInput as exc:
        assert exc.field and str(exc)
        return None
    assert isinstance(inp, INPUT_TYPES)
    return inp


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=6))
def test_arbitrary_json_objects_parse_or_raise_invalid_input(record: dict[str, Any]) -> None:
    """Any JSON object given to input_from_dict returns an input or raises InvalidInput, nothing else."""
    parse_or_refuse(record)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(records_around_real_fields())
def test_records_around_real_fields_parse_or_raise_invalid_input(record: dict[str, Any]) -> None:
    """Records with the real field names and random values parse to an input or raise InvalidInput."""
    inp = parse_or_refuse(record)
    if inp is not None:
        step(World.empty(CONFIG), inp)


SEQUENCE_CONFIGS = (
    Config(backends=("qpu1", "qpu2"), system_max_ttl=200, interactive_ttl=20, job_time_cap=80),
    Config(
        backends=("qpu1", "qpu2", "sim"),
        simulators=frozenset({"sim"}),
        system_max_ttl=100,
        interactive_ttl=10,
        job_time_cap=40,
        pending_timeout=30,
        reservations=(Reservation("qpu1", "lab-b", 15, 60),),
    ),
)
IDS = ("s1", "s2", "j1", "j2", "j3", "", "qpu1")
BACKENDS = ("qpu1", "qpu2", "sim", "")
INSTANCES = ("default", "lab-a", "lab-b", "")
DURATIONS: tuple[object, ...] = (None, None, 1, 5, 30, 2.5, 500, 0, -3, math.nan, math.inf, True, "10")
OUTCOMES: tuple[object, ...] = ("completed", "failed", "completed", "done", None)


@st.composite
def valid_looking_inputs(draw: st.DrawFn) -> list[object]:
    """Inputs built from small pools of ids, mostly valid values and mostly increasing times."""
    t: float = 0
    out: list[object] = []
    ident = st.sampled_from(IDS)
    for _ in range(draw(st.integers(min_value=1, max_value=14))):
        t = t + draw(st.sampled_from((0, 0, 1, 3, 7, 15, 40, -2, 0.5)))
        when: object = draw(st.sampled_from((t, t, t, t, -1, math.nan)))
        kind = draw(st.integers(min_value=0, max_value=7))
        if kind == 0:
            backend = draw(st.sampled_from(BACKENDS))
            out.append(loose(CreateSession, when, draw(ident), backend, draw(st.sampled_from(DURATIONS))))
        elif kind in (1, 2):
            out.append(
                loose(
                    Submit,
                    when,
                    draw(ident),
                    draw(st.sampled_from(BACKENDS)),
                    draw(st.sampled_from((None, *IDS))),
                    draw(st.sampled_from((False, False, True, 1))),
                    draw(st.sampled_from(INSTANCES)),
                    draw(st.sampled_from(DURATIONS)),
                )
            )
        elif kind == 3:
            out.append(loose(CloseSession, when, draw(ident)))
        elif kind == 4:
            out.append(loose(CancelSession, when, draw(ident)))
        elif kind == 5:
            out.append(loose(CancelJob, when, draw(ident)))
        elif kind == 6:
            out.append(loose(FinishJob, when, draw(ident), draw(st.sampled_from(OUTCOMES))))
        else:
            out.append(draw(st.sampled_from((loose(Advance, when), "advance", None))))
    return out


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(SEQUENCE_CONFIGS), valid_looking_inputs())
def test_valid_looking_sequences_never_crash_step(config: Config, inputs: list[object]) -> None:
    """Any sequence of input-like objects gives a new world, a refusal or InvalidInput, never a crash."""
    checker = Checker(World.empty(config))
    for thing in inputs:
        before = checker.world
        seen = len(checker.history)
        try:
            checker.apply(cast(Input, thing))
        except InvalidInput:
            assert checker.world is before
            assert len(checker.history) == seen
            continue
        produced = checker.history[seen:]
        assert produced, "every accepted input makes at least one transition"
        for transition in produced[:-1]:
            assert not any(isinstance(o, Rejected) for o in transition.observations)
        last = produced[-1]
        rejections = [o for o in last.observations if isinstance(o, Rejected)]
        if rejections:
            assert list(last.observations) == rejections and len(rejections) == 1
            assert last.after == last.before
            assert rejections[0].reason.strip()
    checker.finish()


def test_step_result_is_a_step() -> None:
    """step() of a valid input returns a Step with a world and a tuple of observations."""
    result = step(World.empty(CONFIG), Advance(5))
    assert isinstance(result, Step)
    assert result.world.now == 5 and result.observations == ()
