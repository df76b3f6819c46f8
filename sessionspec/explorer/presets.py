"""Bounded configurations for the exhaustive explorer, and their recorded state counts.

A preset is a world configuration (the trace-header keys) plus :class:`Bounds`: how
many sessions and jobs users may create, which values they may give, and up to which
instant time may run. Within the bounds the explorer tries every input at every
reachable state, so the bounds, not chance, decide what is covered.

Each preset records the number of distinct states the explorer reaches, with and
without symmetry reduction. A change of the model's behaviour changes these numbers,
and a test compares them, so the change has to be acknowledged here (the practice of
the TLA+ examples repository).

>>> PRESETS["tiny"].bounds.sessions
1
>>> sorted(PRESETS) == sorted(["tiny", "default", "large"])
True
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from sessionspec.model.config import Config, Number, Reservation, identifier
from sessionspec.model.errors import InvalidInput

# the inputs by which users end work: protocol v1 ``op`` names
ENDINGS = ("close_session", "cancel_session", "cancel_job")


class Workload(NamedTuple):
    """How many sessions, session jobs and plain jobs one run of the users may create."""

    sessions: int
    session_jobs: int
    plain_jobs: int

    def admits(self, sessions: int, session_jobs: int, plain_jobs: int) -> bool:
        return (
            sessions <= self.sessions and session_jobs <= self.session_jobs and plain_jobs <= self.plain_jobs
        )

    def describe(self) -> str:
        return f"sessions {self.sessions}, session jobs {self.session_jobs}, plain jobs {self.plain_jobs}"


_WORKLOAD_KEYS = Workload._fields


class Bounds(NamedTuple):
    """What users may do in a bounded exploration.

    Besides the main limits (``sessions``, ``session_jobs``, ``plain_jobs``) a run may
    keep to any of the ``alternatives`` instead: the explored states are those of all
    these workloads together, each shared state explored once.

    >>> bounds = Bounds(sessions=1, session_jobs=3, alternatives=(Workload(2, 2, 1),))
    >>> bounds.admits(2, 2, 1), bounds.admits(1, 3, 1), bounds.admits(2, 3, 1)
    (True, True, False)
    """

    # how many sessions (create_session or a start_session job), session jobs and plain jobs
    sessions: int = 1
    session_jobs: int = 2
    plain_jobs: int = 1
    # instances jobs may name (instances in no reservation are interchangeable)
    instances: tuple[str, ...] = ("lab-a",)
    # values a session's max_time and a job's max_execution_time may take
    max_times: tuple[Number | None, ...] = (None,)
    max_execution_times: tuple[Number | None, ...] = (None,)
    # how the QPU may report a running job's end ("completed", "failed")
    job_outcomes: tuple[str, ...] = ("completed", "failed")
    # jobs that open their own session (the jobs API's start_session)
    start_session_jobs: bool = False
    # inputs the model refuses: unknown ids, a job into a closed session or onto another
    # backend, a session on a simulator, finishing a job that is not running
    refused_inputs: bool = True
    # which ends users may put to their work before it runs out (a job finishing is the
    # QPU's, and always allowed); each one multiplies the interleavings
    endings: tuple[str, ...] = ENDINGS
    # other limits a run may keep to instead of the main ones
    alternatives: tuple[Workload, ...] = ()

    @property
    def workloads(self) -> tuple[Workload, ...]:
        return (Workload(self.sessions, self.session_jobs, self.plain_jobs), *self.alternatives)

    def admits(self, sessions: int, session_jobs: int, plain_jobs: int) -> bool:
        """May a run create this many sessions, session jobs and plain jobs?"""
        return any(w.admits(sessions, session_jobs, plain_jobs) for w in self.workloads)

    def describe_workloads(self) -> str:
        return ", or ".join(w.describe() for w in self.workloads)

    def to_dict(self) -> dict[str, Any]:
        out = self._asdict()
        out["instances"] = list(self.instances)
        out["max_times"] = list(self.max_times)
        out["max_execution_times"] = list(self.max_execution_times)
        out["job_outcomes"] = list(self.job_outcomes)
        out["endings"] = list(self.endings)
        out["alternatives"] = [w._asdict() for w in self.alternatives]
        return out

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Bounds:
        """Validate bounds read from a file; raise :class:`InvalidInput` on bad data."""
        if not isinstance(raw, Mapping):
            raise InvalidInput("bounds", raw, "an object with the keys of Bounds")
        unknown = sorted(set(raw) - set(cls._fields))
        if unknown:
            raise InvalidInput(
                f"bounds.{unknown[0]}", raw[unknown[0]], f"known keys: {', '.join(cls._fields)}"
            )
        values: dict[str, Any] = {}
        for key in ("sessions", "session_jobs", "plain_jobs"):
            if key in raw:
                value = raw[key]
                if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 50:
                    raise InvalidInput(f"bounds.{key}", value, "a whole number from 0 to 50")
                values[key] = value
        if "alternatives" in raw:
            values["alternatives"] = _workloads(raw["alternatives"])
        if "instances" in raw:
            items = raw["instances"]
            if not isinstance(items, list) or not items:
                raise InvalidInput("bounds.instances", items, "a non-empty list of instance names")
            values["instances"] = tuple(identifier(x, f"bounds.instances[{i}]") for i, x in enumerate(items))
        for key in ("max_times", "max_execution_times"):
            if key in raw:
                values[key] = _optional_durations(raw[key], f"bounds.{key}")
        if "job_outcomes" in raw:
            outcomes = raw["job_outcomes"]
            if not isinstance(outcomes, list) or not outcomes or set(outcomes) - {"completed", "failed"}:
                raise InvalidInput(
                    "bounds.job_outcomes", outcomes, 'a non-empty list of "completed", "failed"'
                )
            values["job_outcomes"] = tuple(dict.fromkeys(outcomes))
        if "endings" in raw:
            endings = raw["endings"]
            if not isinstance(endings, list) or set(endings) - set(ENDINGS):
                raise InvalidInput("bounds.endings", endings, f"a list of {', '.join(map(repr, ENDINGS))}")
            values["endings"] = tuple(dict.fromkeys(endings))
        for key in ("start_session_jobs", "refused_inputs"):
            if key in raw:
                if not isinstance(raw[key], bool):
                    raise InvalidInput(f"bounds.{key}", raw[key], "true or false")
                values[key] = raw[key]
        return cls(**values)


def _workloads(items: object) -> tuple[Workload, ...]:
    expected = "a list of objects with the keys " + ", ".join(_WORKLOAD_KEYS)
    if not isinstance(items, list):
        raise InvalidInput("bounds.alternatives", items, expected)
    out: list[Workload] = []
    for i, item in enumerate(items):
        where = f"bounds.alternatives[{i}]"
        if not isinstance(item, dict) or set(item) != set(_WORKLOAD_KEYS):
            raise InvalidInput(where, item, expected)
        for key in _WORKLOAD_KEYS:
            value = item[key]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 50:
                raise InvalidInput(f"{where}.{key}", value, "a whole number from 0 to 50")
        out.append(Workload(*(item[key] for key in _WORKLOAD_KEYS)))
    return tuple(out)


def _optional_durations(items: object, where: str) -> tuple[Number | None, ...]:
    if not isinstance(items, list) or not items:
        raise InvalidInput(where, items, "a non-empty list of numbers of seconds > 0, or null for none")
    out: list[Number | None] = []
    for i, item in enumerate(items):
        if item is not None and (isinstance(item, bool) or not isinstance(item, int) or item <= 0):
            raise InvalidInput(f"{where}[{i}]", item, "a whole number of seconds > 0, or null for none")
        out.append(item)
    return tuple(out)


class Preset(NamedTuple):
    """A named configuration and bounds, with the state counts it must reach."""

    name: str
    summary: str
    config: Config
    bounds: Bounds
    # distinct states with symmetry reduction, and without it (None: not recorded)
    expected_states: int | None = None
    expected_states_unreduced: int | None = None


# short timers, so that every timeout and limit falls within a few steps of the search
ONE_QPU = Config(backends=("qpu",), system_max_ttl=2, interactive_ttl=1, job_time_cap=1, pending_timeout=2)

PRESETS: dict[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            "tiny",
            "a QPU with a reservation window and a simulator; one session with one job, one plain job",
            Config(
                backends=("qpu", "sim"),
                simulators=frozenset({"sim"}),
                system_max_ttl=3,
                interactive_ttl=1,
                job_time_cap=2,
                pending_timeout=2,
                reservations=(Reservation("qpu", "lab-r", 1, 2),),
            ),
            Bounds(
                sessions=1,
                session_jobs=1,
                plain_jobs=1,
                instances=("lab-a", "lab-r"),
                max_times=(None, 1),
                max_execution_times=(1, 3),
                job_outcomes=("completed",),
            ),
            expected_states=7277,
            expected_states_unreduced=8728,
        ),
        Preset(
            "default",
            "one QPU with a pending timeout; one session with three jobs and a plain job, or two"
            " sessions with two jobs between them and a plain job",
            ONE_QPU,
            # three jobs in one session order a session's queue; two sessions contend for the QPU
            Bounds(
                session_jobs=3,
                instances=("lab-a",),
                refused_inputs=False,
                alternatives=(Workload(sessions=2, session_jobs=2, plain_jobs=1),),
            ),
            expected_states=39969,
        ),
        Preset(
            "large",
            "one QPU with a pending timeout; two sessions with three jobs between them and a plain job;"
            " jobs complete",
            ONE_QPU,
            Bounds(sessions=2, session_jobs=3, job_outcomes=("completed",), refused_inputs=False),
            expected_states=229671,
        ),
    )
}

DEFAULT_PRESET = "default"


def load_preset_file(path: str | Path) -> Preset:
    """A preset from a JSON file ``{"config": {...header keys...}, "bounds": {...}}``.

    Raises :class:`~sessionspec.model.errors.InvalidInput` with the offending key on bad content,
    and :class:`OSError` when the file cannot be read.
    """
    data = Path(path).read_bytes()
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        where = f"byte {error.start + 1} is not UTF-8"
        raise InvalidInput("file", str(path), f"a JSON object in UTF-8 text ({where})") from None
    except json.JSONDecodeError as error:
        raise InvalidInput("file", str(path), f"a JSON object (line {error.lineno}: {error.msg})") from None
    except RecursionError:
        raise InvalidInput("file", str(path), "a JSON object with values not nested so deeply") from None
    except ValueError:  # an integer of thousands of digits
        digits = f"{sys.get_int_max_str_digits():,}"
        raise InvalidInput(
            "file", str(path), f"a JSON object whose numbers have at most {digits} digits"
        ) from None
    if not isinstance(raw, dict) or set(raw) - {"config", "bounds", "name"}:
        raise InvalidInput("file", str(path), 'an object with the keys "config" and "bounds" (and "name")')
    name = raw.get("name", Path(path).stem)
    if not isinstance(name, str) or not name:
        raise InvalidInput("name", name, "a non-empty string")
    bounds = Bounds.from_dict(raw.get("bounds", {}))
    config = Config.from_dict(raw.get("config", {}))
    if not [b for b in config.backends if not config.is_simulator(b)]:
        raise InvalidInput("config.backends", raw.get("config", {}).get("backends"), "at least one QPU")
    return Preset(name, f"from {path}", config, bounds)
