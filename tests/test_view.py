"""The rule checks' indexes: a patched view equals one built from scratch."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sessionspec.exploration.stateful import CONFIGS, TEMPLATES, Context
from sessionspec.invariants.view import View
from sessionspec.model.step import transitions
from sessionspec.model.world import World


def _summary(view: View) -> tuple[object, ...]:
    stats = {k: (s.jobs, s.first_started, s.unfinished, s.last_end) for k, s in view.stats.items()}
    return (view.jobs, view.sessions, view.running, view.queued, view.active, stats)


@settings(max_examples=60)
@given(config=st.sampled_from(CONFIGS), actions=st.lists(st.sampled_from(TEMPLATES), max_size=40))
def test_incremental_view_equals_full_view(config: object, actions: list[object]) -> None:
    """Patching the previous view with a transition's changes gives the same indexes as a rebuild."""
    world = World.empty(config)  # type: ignore[arg-type]
    ctx, view = Context(), View(world)
    for action in actions:
        for transition in transitions(world, action.resolve(world, ctx), trusted=True):  # type: ignore[attr-defined]
            view = View(transition.after, view)
            assert _summary(view) == _summary(View(transition.after))
            world = transition.after


def test_view_reports_changed_and_lost_records() -> None:
    """A view names the records a transition replaced, and the ids that vanished."""
    from sessionspec.model.inputs import CreateSession, Submit
    from sessionspec.model.step import run

    world = run(World.empty(), [CreateSession(0, "s1", "qpu1"), Submit(0, "j1", "qpu2")]).world
    before = View(world)
    dropped = world._replace(jobs=())
    after = View(dropped, before)
    assert after.lost_jobs == ["j1"] and after.changed_jobs == []
    canceled = world._replace(jobs=(world.jobs[0]._replace(state="canceled"),))
    assert [j.id for j in View(canceled, before).changed_jobs] == ["j1"]
