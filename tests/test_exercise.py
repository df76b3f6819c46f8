"""The exercised predicates: one per rule, true exactly when the rule's situation arises."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import pytest

from sessionspec.invariants import RULES, Checker, Kind
from sessionspec.invariants.exercise import (
    EXERCISED,
    ExerciseError,
    check_complete,
    exercised,
    exercised_at_end,
    exercised_rules,
    predicate,
)
from sessionspec.invariants.view import View
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
)
from sessionspec.model.step import Tick, Transition, transitions
from sessionspec.model.world import World

# Two QPUs and a simulator; timers short enough for a few inputs to reach them.
BASE = Config(
    simulators=frozenset({"sim"}),
    backends=("qpu1", "qpu2", "sim"),
    system_max_ttl=500,
    interactive_ttl=60,
    job_time_cap=300,
)
NO_SIMULATOR = BASE._replace(simulators=frozenset(), backends=("qpu1", "qpu2"))
RESERVED = BASE._replace(reservations=(Reservation("qpu1", "res", 100, 200),))
PENDING_TIMEOUT = BASE._replace(pending_timeout=30)
SHORT_TTL = BASE._replace(system_max_ttl=100)

ANY, LAST, TICKS = "any", "last", "ticks"


class Case(NamedTuple):
    rule: str
    expected: bool
    inputs: tuple[Input, ...]
    config: Config = BASE
    # which transitions to look at: any of them, the last one, or those caused by deadlines
    where: str = ANY
    name: str = ""


def _session_job_runs() -> tuple[Input, ...]:
    return (CreateSession(0, "s1", "qpu1"), Submit(1, "j1", "qpu1", session="s1"))


def _session_waits_behind_plain_job() -> tuple[Input, ...]:
    return (
        CreateSession(0, "s1", "qpu1"),
        Submit(0, "p0", "qpu1"),
        Submit(1, "j1", "qpu1", session="s1"),
    )


def _session_goes_inactive() -> tuple[Input, ...]:
    return (*_session_job_runs(), FinishJob(10, "j1", "completed"), Advance(80))


def _inactive_session_expires_with_job_queued() -> tuple[Input, ...]:
    # SHORT_TTL: s1 expires at 100; inactive at 70; p0 holds qpu1 so j2 waits in the queue
    return (
        *_session_goes_inactive()[:-1],
        Advance(75),
        Submit(76, "p0", "qpu1"),
        Submit(77, "j2", "qpu1", session="s1"),
        Advance(150),
    )


def _expiry_with(queued: bool) -> tuple[Input, ...]:
    extra = (Submit(1, "j2", "qpu1", session="s1"),) if queued else ()
    return (
        CreateSession(0, "s1", "qpu1", max_time=50),
        Submit(0, "j1", "qpu1", session="s1", max_execution_time=200),
        *extra,
        Advance(60),
    )


def _hold_with_outsider() -> tuple[Input, ...]:
    return (*_session_job_runs(), Submit(2, "p1", "qpu1"), FinishJob(10, "j1", "completed"))


REFUSED_SUBMIT = Submit(1, "j1", "qpu2", session="s1")  # s1 runs on qpu1: refused

CASES: tuple[Case, ...] = (
    # --- who runs where
    Case("EXC-ONE-RUNNING", True, (Submit(0, "p1", "qpu1"),)),
    Case("EXC-ONE-RUNNING", False, (Submit(0, "p1", "sim"), Submit(1, "p2", "sim")), name="simulator-only"),
    Case("EXC-ONE-ACTIVE", True, _session_job_runs()),
    Case("EXC-ONE-ACTIVE", False, _session_waits_behind_plain_job(), name="session-still-pending"),
    Case("SES-JOB-BACKEND", True, _session_job_runs()),
    Case(
        "SES-JOB-BACKEND",
        False,
        (CreateSession(0, "s1", "qpu1"), Submit(1, "p1", "qpu1"), REFUSED_SUBMIT),
        name="plain-jobs-only",
    ),
    Case("SIM-NO-SESSION", True, (CreateSession(0, "s1", "qpu1"),)),
    Case(
        "SIM-NO-SESSION",
        False,
        (CreateSession(0, "s1", "sim"), Submit(1, "j1", "sim", session="s2", start_session=True)),
        name="session-asked-on-simulator",
    ),
    Case("SIM-NO-SESSION", False, (CreateSession(0, "s1", "qpu1"),), NO_SIMULATOR, name="no-simulator"),
    Case("WORK-CONSERVE", True, (Submit(0, "p1", "qpu1"), Submit(1, "p2", "qpu1")), name="job-waits"),
    Case("WORK-CONSERVE", True, (Submit(0, "p1", "qpu1"),), where=LAST, name="job-just-started"),
    Case(
        "WORK-CONSERVE",
        True,
        (*_session_job_runs(), FinishJob(10, "j1", "completed"), Submit(11, "p1", "qpu1")),
        where=LAST,
        name="job-held-back",
    ),
    Case(
        "WORK-CONSERVE",
        False,
        (Submit(0, "p1", "qpu1"), Advance(10)),
        where=LAST,
        name="job-running-nothing-waits",
    ),
    Case("WORK-CONSERVE", False, (CreateSession(0, "s1", "qpu1"), REFUSED_SUBMIT), name="no-jobs"),
    Case(
        "RSV-PRIORITY",
        True,
        (Submit(0, "p1", "qpu1"), Submit(110, "r1", "qpu1", instance="res")),
        RESERVED,
        name="reservation-job-waits",
    ),
    Case(
        "RSV-PRIORITY",
        True,
        (Submit(110, "r1", "qpu1", instance="res"),),
        RESERVED,
        name="reservation-job-starts",
    ),
    Case(
        "RSV-PRIORITY",
        False,
        (Submit(0, "p1", "qpu1"), Submit(50, "r1", "qpu1", instance="res"), FinishJob(60, "p1", "completed")),
        RESERVED,
        name="window-not-open",
    ),
    Case(
        "RSV-PRIORITY",
        False,
        (Submit(105, "p1", "qpu1"), Submit(110, "r1", "qpu2", instance="res"), Submit(120, "p2", "qpu1")),
        RESERVED,
        name="reserving-instance-on-other-backend",
    ),
    Case(
        "SES-PRIORITY",
        True,
        (*_session_job_runs(), Submit(2, "j2", "qpu1", session="s1"), Submit(3, "p1", "qpu1")),
    ),
    Case("SES-PRIORITY", False, _hold_with_outsider(), name="session-has-nothing-queued"),
    Case("SES-ITTL-HOLD", True, _hold_with_outsider(), where=LAST, name="job-ends-while-outsider-waits"),
    Case(
        "SES-ITTL-HOLD",
        True,
        (*_hold_with_outsider(), Submit(20, "j2", "qpu1", session="s1")),
        where=LAST,
        name="next-job-arrives-in-hold",
    ),
    Case(
        "SES-ITTL-HOLD",
        False,
        (*_session_job_runs(), Submit(2, "p1", "qpu1")),
        name="session-job-still-running",
    ),
    Case(
        "SES-ITTL-HOLD",
        False,
        (
            *_session_job_runs(),
            FinishJob(10, "j1", "completed"),
            Submit(11, "p0", "qpu2"),
            Submit(12, "p1", "qpu2"),
        ),
        name="outsider-on-other-backend",
    ),
    Case(
        "SES-ITTL-HOLD",
        False,
        (*_session_job_runs(), Submit(2, "j2", "qpu1", session="s1"), Submit(3, "p1", "qpu1")),
        name="session-has-work-queued",
    ),
    Case("SES-FIRST-VIA-QUEUE", True, _session_job_runs()),
    Case(
        "SES-FIRST-VIA-QUEUE",
        True,
        (Submit(0, "j1", "qpu1", session="s1", start_session=True),),
        name="start-session-submission",
    ),
    Case("SES-FIRST-VIA-QUEUE", False, _session_waits_behind_plain_job(), name="first-job-waits"),
    Case(
        "SES-REACTIVATE-VIA-QUEUE", True, (*_session_goes_inactive(), Submit(90, "j2", "qpu1", session="s1"))
    ),
    Case(
        "SES-REACTIVATE-VIA-QUEUE",
        False,
        (
            *_session_job_runs(),
            FinishJob(10, "j1", "completed"),
            Submit(50, "j2", "qpu1", session="s1"),
            FinishJob(60, "j2", "completed"),
            Advance(200),
        ),
        name="deactivated-never-reused",
    ),
    Case(
        "SES-JOB-ORDER",
        True,
        (
            CreateSession(0, "s1", "qpu1"),
            Submit(0, "p0", "qpu1"),
            Submit(1, "j1", "qpu1", session="s1"),
            Submit(2, "j2", "qpu1", session="s1"),
            FinishJob(5, "p0", "completed"),
        ),
    ),
    Case(
        "SES-JOB-ORDER",
        False,
        (
            *_session_job_runs(),
            Submit(2, "j2", "qpu1", session="s1"),
            FinishJob(5, "j1", "completed"),
        ),
        name="one-job-waiting-at-a-time",
    ),
    # --- time
    Case("SES-TTL-START", True, _session_job_runs(), name="first-job-started"),
    Case("SES-TTL-START", True, _session_waits_behind_plain_job(), name="first-job-waits"),
    Case(
        "SES-TTL-START",
        False,
        (CreateSession(0, "s1", "qpu1"), Submit(1, "p1", "qpu1"), Advance(10)),
        name="session-without-jobs",
    ),
    Case("SES-TTL-VALUE", True, _session_job_runs()),
    Case("SES-TTL-VALUE", False, _session_waits_behind_plain_job(), name="first-job-waits"),
    Case("SES-EXPIRY", True, _session_job_runs(), where=LAST, name="live-with-expiry"),
    Case("SES-EXPIRY", True, _expiry_with(queued=False), where=TICKS, name="just-expired"),
    Case("SES-EXPIRY", False, _session_waits_behind_plain_job(), name="first-job-waits"),
    Case(
        "SES-EXPIRY",
        False,
        (*_session_job_runs(), CancelSession(2, "s1"), Advance(5)),
        where=LAST,
        name="ended-by-cancel",
    ),
    Case(
        "SES-REACTIVATE-BEFORE-MAX", True, (*_session_goes_inactive(), Submit(90, "j2", "qpu1", session="s1"))
    ),
    Case(
        "SES-REACTIVATE-BEFORE-MAX",
        True,
        _inactive_session_expires_with_job_queued(),
        SHORT_TTL,
        where=TICKS,
        name="expires-with-job-waiting",
    ),
    Case("SES-REACTIVATE-BEFORE-MAX", False, (*_session_goes_inactive(), Advance(600)), name="never-reused"),
    Case(
        "SES-ITTL-DEACTIVATE",
        True,
        (*_session_job_runs(), FinishJob(10, "j1", "completed")),
        where=LAST,
        name="session-idle",
    ),
    Case("SES-ITTL-DEACTIVATE", True, _session_goes_inactive(), where=TICKS, name="deactivated"),
    Case("SES-ITTL-DEACTIVATE", False, (*_session_job_runs(), Advance(50)), name="session-busy"),
    Case("JOB-TIME-LIMIT", True, (Submit(0, "p1", "sim"),), name="simulator-job-runs"),
    Case(
        "JOB-TIME-LIMIT",
        True,
        (Submit(0, "p1", "qpu1", max_execution_time=10), Advance(20)),
        where=TICKS,
        name="stopped-for-time",
    ),
    Case("JOB-TIME-LIMIT", False, (Submit(0, "p1", "qpu1"), CancelJob(1, "p1"), Advance(5)), where=LAST),
    Case("SES-PENDING-TIMEOUT", True, (CreateSession(0, "s1", "qpu1"), Advance(10)), name="no-timeout"),
    Case(
        "SES-PENDING-TIMEOUT",
        True,
        (CreateSession(0, "s1", "qpu1"), Advance(40)),
        PENDING_TIMEOUT,
        where=TICKS,
        name="timeout-fires",
    ),
    Case(
        "SES-PENDING-TIMEOUT",
        False,
        (CreateSession(0, "s1", "qpu1"), CloseSession(0, "s1"), Advance(40)),
        PENDING_TIMEOUT,
        name="closed-before-time-passed",
    ),
    Case(
        "SES-PENDING-TIMEOUT",
        False,
        (CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu1", session="s1"), Advance(40)),
        PENDING_TIMEOUT,
        name="active-at-once",
    ),
    # --- endings
    Case("SES-EXPIRE-FAILS-QUEUED", True, _expiry_with(queued=True)),
    Case("SES-EXPIRE-FAILS-QUEUED", False, _expiry_with(queued=False), name="nothing-queued"),
    Case(
        "SES-END-SPARES-RUNNING", True, _expiry_with(queued=False), where=TICKS, name="expires-while-running"
    ),
    Case(
        "SES-END-SPARES-RUNNING",
        True,
        (Submit(0, "p1", "qpu1"), FinishJob(5, "p1", "completed")),
        where=LAST,
        name="job-finishes",
    ),
    Case(
        "SES-END-SPARES-RUNNING",
        False,
        (CreateSession(0, "s1", "qpu1"), Submit(0, "p0", "qpu2"), CancelSession(1, "s1"), Advance(10)),
        name="session-ends-idle",
    ),
    Case("SES-CANCEL-QUEUED", True, (CreateSession(0, "s1", "qpu1"), CancelSession(1, "s1"))),
    Case(
        "SES-CANCEL-QUEUED",
        False,
        (CreateSession(0, "s1", "qpu1"), CloseSession(1, "s1"), CancelSession(2, "s1")),
        name="cancel-after-end-refused",
    ),
    Case(
        "SES-CLOSE-REFUSES",
        True,
        (CreateSession(0, "s1", "qpu1"), CloseSession(1, "s1")),
        where=LAST,
        name="close",
    ),
    Case(
        "SES-CLOSE-REFUSES",
        True,
        (CreateSession(0, "s1", "qpu1"), CancelSession(1, "s1"), Submit(2, "j1", "qpu1", session="s1")),
        where=LAST,
        name="submission-to-ended-session",
    ),
    Case(
        "SES-CLOSE-REFUSES",
        False,
        (*_session_job_runs(), Submit(2, "j2", "qpu1", session="s2"), CloseSession(3, "s2")),
        name="open-or-unknown-session",
    ),
    Case(
        "SES-CLOSE-DRAINS", True, (*_session_job_runs(), CloseSession(2, "s1")), where=LAST, name="draining"
    ),
    Case(
        "SES-CLOSE-DRAINS",
        True,
        (CreateSession(0, "s1", "qpu1"), CloseSession(1, "s1")),
        where=LAST,
        name="closed-at-once",
    ),
    Case("SES-CLOSE-DRAINS", False, (*_session_job_runs(), CancelSession(2, "s1")), name="canceled"),
    Case("SES-CLOSE-KEEPS-JOBS", True, (*_session_job_runs(), CloseSession(2, "s1"))),
    Case(
        "SES-CLOSE-KEEPS-JOBS",
        False,
        (*_session_job_runs(), FinishJob(5, "j1", "completed"), CloseSession(6, "s1"), CloseSession(7, "s1")),
        name="close-of-idle-session",
    ),
    Case(
        "TERM-FINAL",
        True,
        (Submit(0, "p1", "qpu1"), FinishJob(1, "p1", "completed"), Advance(5)),
        where=LAST,
    ),
    Case(
        "TERM-FINAL",
        False,
        (Submit(0, "p1", "qpu1"), FinishJob(1, "p1", "completed")),
        where=LAST,
        name="just-ended",
    ),
    Case("EVT-JOBS-END", True, (Submit(0, "p1", "qpu1"),)),
    Case("EVT-JOBS-END", False, (CreateSession(0, "s1", "qpu1"), REFUSED_SUBMIT), name="submission-refused"),
    Case("EVT-SESSIONS-SETTLE", True, _session_job_runs()),
    Case(
        "EVT-SESSIONS-SETTLE",
        False,
        (*_session_waits_behind_plain_job(), CancelJob(2, "j1")),
        name="session-job-never-ran",
    ),
    # --- reporting
    Case("DECL-EDGES", True, (Submit(0, "p1", "qpu1"),)),
    Case(
        "DECL-EDGES",
        False,
        (*_session_job_runs(), CloseSession(2, "s1")),
        where=LAST,
        name="close-only-stops-acceptance",
    ),
    Case("DECL-EDGES", False, (REFUSED_SUBMIT, Advance(5)), name="nothing-changes"),
    Case(
        "OBS-MATCH", True, (*_session_job_runs(), CloseSession(2, "s1")), where=LAST, name="acceptance-flag"
    ),
    Case("OBS-MATCH", True, (CloseSession(0, "s9"),), name="refusal"),
    Case("OBS-MATCH", False, (Submit(0, "p1", "qpu1"), Advance(5)), where=LAST, name="quiet-advance"),
    Case("INP-ANSWERED", True, (Advance(5),)),
    Case("INP-ANSWERED", False, (Submit(0, "p1", "qpu1"), Advance(400)), where=TICKS, name="deadline"),
    Case("NOTHING-LOST", True, (Submit(0, "p1", "qpu1"),)),
    Case("NOTHING-LOST", False, (REFUSED_SUBMIT, CloseSession(2, "s9"), Advance(5)), name="empty-world"),
)


def _case_id(case: Case) -> str:
    return f"{case.rule}-{str(case.expected).lower()}" + (f"-{case.name}" if case.name else "")


def _checked_steps(config: Config, inputs: tuple[Input, ...]) -> Iterator[tuple[Transition, View, View]]:
    """Drive the model under every rule; yield each transition with its before and after views."""
    checker = Checker(World.empty(config))
    for inp in inputs:
        for transition in transitions(checker.world, inp):
            before = checker.view
            checker.check(transition)
            yield transition, before, checker.view


def _verdicts(case: Case) -> list[bool]:
    """The rule's predicate on each selected transition (or on the final world, for eventual rules)."""
    rule, check = RULES[case.rule], predicate(case.rule)
    if rule.kind is Kind.EVENTUAL:
        checker = Checker(World.empty(case.config))
        for inp in case.inputs:
            checker.apply(inp)
        checker.finish()
        return [check(checker.view)]
    steps = list(_checked_steps(case.config, case.inputs))
    if case.where == LAST:
        steps = steps[-1:]
    elif case.where == TICKS:
        steps = [s for s in steps if isinstance(s[0].cause, Tick)]
    assert steps, "the case selects no transition"
    if rule.kind is Kind.STATE:
        return [check(after) for _, _, after in steps]
    return [check(transition, before, after) for transition, before, after in steps]


def test_every_rule_has_exactly_one_predicate() -> None:
    """The registry and the catalogue name the same rules, and the completeness check agrees."""
    assert sorted(EXERCISED) == sorted(RULES)
    check_complete()


def test_a_rule_without_predicate_is_named_with_what_to_do() -> None:
    """The completeness check names the rule lacking a predicate and says how to add one."""
    partial = {k: v for k, v in EXERCISED.items() if k != "SES-TTL-START"}
    with pytest.raises(ExerciseError, match=r"SES-TTL-START has no exercised predicate.*@exercised"):
        check_complete(predicates=partial)


def test_a_predicate_for_an_unknown_rule_is_refused() -> None:
    """A predicate naming no rule of the catalogue fails the check and cannot be registered."""
    extra = {**EXERCISED, "NO-SUCH-RULE": EXERCISED["EVT-JOBS-END"]}
    with pytest.raises(ExerciseError, match="NO-SUCH-RULE"):
        check_complete(predicates=extra)
    with pytest.raises(ExerciseError, match="not a rule of the catalogue"):
        exercised("NO-SUCH-RULE")(lambda view: True)
    assert "NO-SUCH-RULE" not in EXERCISED


def test_a_second_predicate_or_a_wrong_signature_is_refused() -> None:
    """Registering twice for one rule, or with the other kind's arguments, raises and changes nothing."""
    first = EXERCISED["EXC-ONE-RUNNING"]
    with pytest.raises(ExerciseError, match="already has"):
        exercised("EXC-ONE-RUNNING")(lambda view: True)
    del EXERCISED["EXC-ONE-RUNNING"]
    try:
        with pytest.raises(ExerciseError, match=r"takes \(view\)"):
            exercised("EXC-ONE-RUNNING")(lambda transition, before, after: True)
    finally:
        EXERCISED["EXC-ONE-RUNNING"] = first
    with pytest.raises(ExerciseError, match="not a rule"):
        predicate("NO-SUCH-RULE")


def test_every_rule_has_a_true_and_a_false_case() -> None:
    """The case table below shows each rule both exercised and not exercised."""
    assert {c.rule for c in CASES if c.expected} == set(RULES)
    assert {c.rule for c in CASES if not c.expected} == set(RULES)


@pytest.mark.parametrize("case", CASES, ids=_case_id)
def test_predicate_on_a_concrete_run(case: Case) -> None:
    """On this run (every rule holding) the rule's predicate is true somewhere exactly when expected."""
    assert any(_verdicts(case)) is case.expected


def test_exercised_rules_of_one_transition() -> None:
    """A new session on an empty world exercises only the reporting rules, in catalogue order."""
    world = World.empty(NO_SIMULATOR)
    before = View(world)
    [transition] = transitions(world, CreateSession(0, "s1", "qpu1"))
    after = View(transition.after, before)
    assert exercised_rules(transition, before, after, state_changed=True) == [
        "DECL-EDGES",
        "OBS-MATCH",
        "INP-ANSWERED",
        "NOTHING-LOST",
    ]
    assert exercised_rules(transition, before, after, True, rules={"OBS-MATCH", "EXC-ONE-RUNNING"}) == [
        "OBS-MATCH"
    ]


def test_unchanged_world_skips_state_invariants() -> None:
    """A refusal leaves the world as it was: with state_changed false no state invariant is listed."""
    steps = list(
        _checked_steps(NO_SIMULATOR, (Submit(0, "p1", "qpu1"), Submit(1, "p2", "qpu1", session="s9")))
    )
    transition, before, after = steps[-1]
    assert transition.after is transition.before
    changed = exercised_rules(transition, before, after, state_changed=True)
    unchanged = exercised_rules(transition, before, after, state_changed=False)
    assert "EXC-ONE-RUNNING" in changed and "JOB-TIME-LIMIT" in changed
    assert unchanged == ["OBS-MATCH", "INP-ANSWERED", "NOTHING-LOST"]


def test_exercised_at_end_lists_eventual_rules_only() -> None:
    """At the end, a run with a used session exercises both eventual properties, and nothing else."""
    checker = Checker(World.empty(BASE))
    for inp in _session_job_runs():
        checker.apply(inp)
    checker.finish()
    assert exercised_at_end(checker.view) == ["EVT-JOBS-END", "EVT-SESSIONS-SETTLE"]
    assert exercised_at_end(checker.view, rules=["EVT-JOBS-END"]) == ["EVT-JOBS-END"]
    assert exercised_at_end(View(World.empty(BASE))) == []
