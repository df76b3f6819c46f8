"""The compiled tables agree exactly with the machines declared in sessionspec.model.declarations.

The scheduler core fires every lifecycle change through :data:`sessionspec.model.compiled.SESSION`
and :data:`sessionspec.model.compiled.JOB`, so these tests compare the tables against the live
python-statemachine classes: step by step under Hypothesis, and structurally through
the library's own class introspection (never through ``compile_machine``'s code path).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statemachine import State, StateMachine
from statemachine.exceptions import InvalidDefinition, TransitionNotAllowed

from sessionspec.model import guards
from sessionspec.model.compiled import JOB, SESSION, Edge, Guard, MachineTable, compile_machine
from sessionspec.model.declarations import Job, Session
from sessionspec.model.errors import SessionSpecError, UndeclaredTransition
from sessionspec.model.guards import SessionFacts

# (source, event, target, guard labels in declaration order)
EdgeKey = tuple[str, str, str, tuple[str, ...]]

REFUSED = "<refused>"
NOT_EVENTS = ("no_such_event", "Pending")

FACTS = st.builds(SessionFacts, st.integers(0, 3), st.booleans(), st.booleans(), st.booleans())
ALL_FACTS = tuple(
    SessionFacts(jobs, accepting, ttl, ever)
    for jobs in (0, 1)
    for accepting in (False, True)
    for ttl in (False, True)
    for ever in (False, True)
)
CASES = [pytest.param(Session, SESSION, id="Session"), pytest.param(Job, JOB, id="Job")]


# --- the declared machine, read through python-statemachine's own introspection ---


def _label(name: str, expected: bool) -> str:
    return name if expected else f"not {name}"


def _declared_edges(machine: type[StateMachine]) -> list[tuple[EdgeKey, bool]]:
    """Every (source, event, target, guard labels) of the class, with its internal flag."""
    found: list[tuple[EdgeKey, bool]] = []
    for state in machine.states:
        for transition in state.transitions:
            assert transition.source is state
            assert transition.target is not None
            labels = tuple(_label(spec.attr_name, spec.expected_value) for spec in transition.cond)
            for event in transition.events:
                key = (str(state.value), str(event.id), str(transition.target.value), labels)
                found.append((key, bool(transition.internal)))
    return found


def _declared_event_names(machine: type[StateMachine]) -> set[str]:
    return {str(event.id) for state in machine.states for t in state.transitions for event in t.events}


def _table_key(edge: Edge) -> EdgeKey:
    return (edge.source, edge.event, edge.target, tuple(g.label() for g in edge.guards))


def _reachable(start: Iterable[str], step: dict[str, set[str]]) -> set[str]:
    seen = set(start)
    todo = deque(seen)
    while todo:
        for nxt in step.get(todo.popleft(), set()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


# --- step by step: the live machine and the table, side by side ---


def _send(machine: StateMachine, event: str, facts: SessionFacts | None) -> str:
    """Send ``event`` to the live machine; return its new state value, or REFUSED."""
    try:
        if facts is None:
            machine.send(event)
        else:
            machine.send(event, facts=facts)
    except TransitionNotAllowed:
        return REFUSED
    return str(machine.current_state_value)


def _fire(table: MachineTable, state: str, event: str, facts: SessionFacts | None) -> str:
    """Fire ``event`` on the table from ``state``; return the target, or REFUSED."""
    try:
        return table.fire(state, event, facts)
    except UndeclaredTransition as refusal:
        assert (refusal.machine, refusal.state, refusal.event) == (table.name, state, event)
        return REFUSED


def _drive_side_by_side(
    machine_class: type[StateMachine],
    table: MachineTable,
    start: str,
    steps: list[tuple[str, SessionFacts | None]],
) -> None:
    """Put the live machine and the table in ``start``, then apply ``steps`` to both."""
    machine = machine_class() if start == table.initial else machine_class(start_value=start)
    state = start
    assert machine.current_state_value == state
    for index, (event, facts) in enumerate(steps):
        expected = _send(machine, event, facts)
        got = _fire(table, state, event, facts)
        assert got == expected, f"step {index}: {event!r} from {state!r} with {facts}"
        if got != REFUSED:
            state = got
        assert machine.current_state_value == state


SESSION_EVENTS = sorted(set(SESSION.events) | _declared_event_names(Session) | {"start"} | set(NOT_EVENTS))
JOB_EVENTS = sorted(set(JOB.events) | _declared_event_names(Job) | {"close"} | set(NOT_EVENTS))


# The start state is drawn too (it shrinks to the initial state, listed first): random
# sequences from the initial state alone mostly end the session within a few steps and
# rarely exercise the edges out of ``inactive``.


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(SESSION.states), st.lists(st.tuples(st.sampled_from(SESSION_EVENTS), FACTS), max_size=30)
)
def test_session_table_moves_like_declared_machine(start: str, steps: list[tuple[str, SessionFacts]]) -> None:
    """Any event sequence moves the Session table and the live Session machine alike."""
    _drive_side_by_side(Session, SESSION, start, list(steps))


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(JOB.states), st.lists(st.sampled_from(JOB_EVENTS), max_size=30))
def test_job_table_moves_like_declared_machine(start: str, events: list[str]) -> None:
    """Any event sequence moves the Job table and the live Job machine alike."""
    _drive_side_by_side(Job, JOB, start, [(event, None) for event in events])


@pytest.mark.parametrize(("machine_class", "table"), CASES)
def test_every_single_step_matches_declared_machine(
    machine_class: type[StateMachine], table: MachineTable
) -> None:
    """From every declared state, every event under every facts combination moves both alike."""
    all_facts: tuple[SessionFacts | None, ...] = ALL_FACTS if machine_class is Session else (None,)
    events = sorted(set(table.events) | _declared_event_names(machine_class) | set(NOT_EVENTS))
    for state in machine_class.states:
        for event in events:
            for facts in all_facts:
                machine = machine_class(start_value=state.value)
                expected = _send(machine, event, facts)
                got = _fire(table, str(state.value), event, facts)
                assert got == expected, f"{event!r} from {state.value!r} with {facts}"


def test_unknown_event_is_refused_by_strict_machine() -> None:
    """The strict StateMachine refuses an unknown event name as TransitionNotAllowed, like the table."""
    machine = Session()
    with pytest.raises(TransitionNotAllowed):
        machine.send("no_such_event")
    assert machine.current_state_value == "pending"
    with pytest.raises(UndeclaredTransition):
        SESSION.fire("pending", "no_such_event", None)


# --- structure ---


@pytest.mark.parametrize(("machine_class", "table"), CASES)
def test_table_states_match_declared_states(machine_class: type[StateMachine], table: MachineTable) -> None:
    """The table lists exactly the declared states, initial state and final states."""
    assert table.name == machine_class.__name__
    assert list(table.states) == [str(s.value) for s in machine_class.states]
    initial = [str(s.value) for s in machine_class.states if s.initial]
    assert initial == [table.initial]
    assert table.finals == {str(s.value) for s in machine_class.states if s.final}


@pytest.mark.parametrize(("machine_class", "table"), CASES)
def test_table_edges_match_declared_transitions(
    machine_class: type[StateMachine], table: MachineTable
) -> None:
    """The table holds exactly the declared (source, event, target, guards) edges, in declared order."""
    declared = _declared_edges(machine_class)
    assert {_table_key(e) for e in table.edges} == {key for key, _ in declared}
    assert [(_table_key(e), e.internal) for e in table.edges] == declared
    assert set(table.events) == _declared_event_names(machine_class)
    assert set(table.events) == {str(e.id) for e in machine_class().events}
    for source in table.states:
        for target in table.states:
            assert table.connects(source, target) == any(
                key[0] == source and key[2] == target for key, _ in declared
            )


@pytest.mark.parametrize("table", [SESSION, JOB], ids=["Session", "Job"])
def test_every_state_reachable_from_initial(table: MachineTable) -> None:
    """Every declared state can be reached from the initial state along table edges."""
    forward: dict[str, set[str]] = {}
    for edge in table.edges:
        forward.setdefault(edge.source, set()).add(edge.target)
    assert _reachable([table.initial], forward) == set(table.states)


@pytest.mark.parametrize("table", [SESSION, JOB], ids=["Session", "Job"])
def test_final_states_have_no_outgoing_edge(table: MachineTable) -> None:
    """No table edge leaves a final state, and every final state is a declared state."""
    assert table.finals
    assert table.finals <= set(table.states)
    assert [e for e in table.edges if e.source in table.finals] == []


@pytest.mark.parametrize("table", [SESSION, JOB], ids=["Session", "Job"])
def test_every_non_final_state_can_end(table: MachineTable) -> None:
    """From every non-final state some path of table edges leads to a final state."""
    backward: dict[str, set[str]] = {}
    for edge in table.edges:
        backward.setdefault(edge.target, set()).add(edge.source)
    assert _reachable(table.finals, backward) == set(table.states)


# --- guards are written once ---


def test_compiled_guards_are_the_declared_functions() -> None:
    """Each compiled guard predicate is the very function object the Session class declares."""
    names: set[str] = set()
    for edge in SESSION.edges:
        for guard in edge.guards:
            names.add(guard.name)
            assert guard.predicate is getattr(Session, guard.name)
            assert guard.predicate is getattr(guards, guard.name)
    for state in Session.states:
        for transition in state.transitions:
            for spec in transition.cond:
                assert getattr(Session, spec.attr_name) is getattr(guards, spec.attr_name)
    assert names == {"is_idle", "is_accepting", "before_max_ttl", "never_got_job"}
    assert all(edge.guards == () for edge in JOB.edges)


# --- definitions are validated when the class is created ---


def test_unreachable_state_rejected_at_class_creation() -> None:
    """Declaring a state unreachable from the initial state fails when the class is created."""
    with pytest.raises(InvalidDefinition, match="unreachable states"):

        class Broken(StateMachine):
            start = State(initial=True)
            stray = State()
            done = State(final=True)

            finish = start.to(done)
            wander = stray.to(done)


def test_trap_state_rejected_at_class_creation() -> None:
    """Declaring a non-final state with no outgoing transition fails when the class is created."""
    with pytest.raises(InvalidDefinition, match="no outgoing transition"):

        class Broken(StateMachine):
            start = State(initial=True)
            stuck = State()
            done = State(final=True)

            finish = start.to(done)
            trap = start.to(stuck)


def test_state_without_way_to_final_rejected_at_class_creation() -> None:
    """Declaring a non-final state with no path to a final state fails when the class is created."""
    with pytest.raises(InvalidDefinition, match="no path to a final state"):

        class Broken(StateMachine):
            start = State(initial=True)
            loop = State()
            done = State(final=True)

            finish = start.to(done)
            enter = start.to(loop)
            spin = loop.to.itself()  # type: ignore[no-untyped-call]


def _unlocked(facts: bool) -> bool:
    return facts


class Door(StateMachine):
    """A small valid machine with guards, an internal self-transition and a shared event."""

    shut = State(initial=True)
    ajar = State()
    gone = State(final=True)

    push = shut.to(ajar, cond="unlocked")
    knock = shut.to.itself(internal=True)  # type: ignore[no-untyped-call]
    pull = ajar.to(shut)
    smash = shut.to(gone) | ajar.to(gone, unless="unlocked")

    unlocked = staticmethod(_unlocked)


def test_compile_machine_builds_expected_table() -> None:
    """compile_machine turns a small custom machine into the table written here by hand."""
    table = compile_machine(Door)
    unlocked = Guard("unlocked", True, _unlocked)
    locked = Guard("unlocked", False, _unlocked)
    assert table.name == "Door"
    assert table.states == ("shut", "ajar", "gone")
    assert table.initial == "shut"
    assert table.finals == frozenset({"gone"})
    assert table.edges == (
        Edge("shut", "ajar", "push", (unlocked,), internal=False),
        Edge("shut", "shut", "knock", (), internal=True),
        Edge("shut", "gone", "smash", (), internal=False),
        Edge("ajar", "shut", "pull", (), internal=False),
        Edge("ajar", "gone", "smash", (locked,), internal=False),
    )
    assert all(g.predicate is _unlocked for e in table.edges for g in e.guards)
    assert table.events == ("push", "knock", "smash", "pull")
    assert table.fire("shut", "push", True) == "ajar"
    assert table.fire("ajar", "smash", False) == "gone"
    assert table.connects("shut", "shut") and not table.connects("gone", "shut")
    with pytest.raises(UndeclaredTransition):
        table.fire("shut", "push", False)
    with pytest.raises(UndeclaredTransition):
        table.fire("ajar", "smash", True)


# --- refusals ---


def test_table_refuses_undeclared_transition_with_typed_error() -> None:
    """An undeclared or disabled transition raises UndeclaredTransition with machine, state and event."""
    with pytest.raises(UndeclaredTransition) as caught:
        JOB.fire("completed", "cancel", None)
    error = caught.value
    assert (error.machine, error.state, error.event) == ("Job", "completed", "cancel")
    assert isinstance(error, RuntimeError)
    assert isinstance(error, SessionSpecError)
    assert "cancel" in str(error) and "completed" in str(error)

    past_max_ttl = SessionFacts(unfinished_jobs=1, accepting=True, before_max_ttl=False, ever_got_job=True)
    with pytest.raises(UndeclaredTransition) as caught:
        SESSION.fire("inactive", "reactivating_job_started", past_max_ttl)
    assert (caught.value.machine, caught.value.state, caught.value.event) == (
        "Session",
        "inactive",
        "reactivating_job_started",
    )
