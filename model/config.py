"""The configuration of a world: the keys of a trace header (protocol v1, section 1).

>>> backends = [{"name": "sim", "simulator": True}]
>>> config = Config.from_dict({"interactive_ttl": 30, "backends": backends})
>>> config.interactive_ttl, config.is_simulator("sim"), config.is_simulator("qpu1")
(30, True, False)
>>> Config.from_dict({"interactive_ttl": -1})
Traceback (most recent call last):
...
sessionspec.model.errors.InvalidInput: config.interactive_ttl=-1 is not valid: a number of seconds > 0
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from sessionspec.model.errors import InvalidInput
from sessionspec.model.variant import REFERENCE, Variant

Number = int | float


class Reservation(NamedTuple):
    """A dedicated window ``[start, end)`` on ``backend`` for ``instance``'s jobs."""

    backend: str
    instance: str
    start: Number
    end: Number

    def is_open(self, t: Number) -> bool:
        return self.start <= t < self.end


class Config(NamedTuple):
    """System constants of one world. Immutable and hashable."""

    simulators: frozenset[str] = frozenset()
    backends: tuple[str, ...] = ()
    system_max_ttl: Number = 28800
    interactive_ttl: Number = 60
    job_time_cap: Number = 10800
    reservations: tuple[Reservation, ...] = ()
    pending_timeout: Number | None = None
    # The reading of the rules this world runs (not a header key: the reference by default).
    variant: Variant = REFERENCE

    def is_simulator(self, backend: str) -> bool:
        """A backend not listed in the configuration is a physical one."""
        return backend in self.simulators

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Config:
        """Validate and build a configuration; raise :class:`InvalidInput` on bad data."""
        if not isinstance(raw, Mapping):
            raise InvalidInput("config", raw, "an object with the keys of protocol v1 section 1")
        unknown = sorted(set(raw) - _KEYS)
        if unknown:
            raise InvalidInput(
                f"config.{unknown[0]}",
                raw[unknown[0]],
                f"known keys are {', '.join(sorted(_KEYS))}",
            )
        names: list[str] = []
        simulators: set[str] = set()
        for i, entry in enumerate(_list(raw, "backends")):
            where = f"config.backends[{i}]"
            if not isinstance(entry, Mapping) or set(entry) - {"name", "simulator"}:
                raise InvalidInput(where, entry, 'an object {"name": str, "simulator": bool}')
            name = identifier(entry.get("name"), f"{where}.name")
            simulator = entry.get("simulator", False)
            if not isinstance(simulator, bool):
                raise InvalidInput(f"{where}.simulator", simulator, "true or false")
            if name in names:
                raise InvalidInput(f"{where}.name", name, "each backend is listed once")
            names.append(name)
            if simulator:
                simulators.add(name)
        reservations = tuple(
            _reservation(entry, f"config.reservations[{i}]")
            for i, entry in enumerate(_list(raw, "reservations"))
        )
        pending = raw.get("pending_timeout")
        return cls(
            simulators=frozenset(simulators),
            backends=tuple(names),
            system_max_ttl=duration(raw.get("system_max_ttl", 28800), "config.system_max_ttl"),
            interactive_ttl=duration(raw.get("interactive_ttl", 60), "config.interactive_ttl"),
            job_time_cap=duration(raw.get("job_time_cap", 10800), "config.job_time_cap"),
            reservations=reservations,
            pending_timeout=None if pending is None else duration(pending, "config.pending_timeout"),
        )

    def describe(self) -> str:
        """The backends and every time constant, in words.

        >>> Config(backends=("qpu", "sim"), simulators=frozenset({"sim"}), pending_timeout=30).describe()
        'backends qpu, sim (simulator); ITTL 60s, max TTL 28800s, job time cap 10800s, ...'
        """
        backends = ", ".join(f"{b} (simulator)" if b in self.simulators else b for b in self.backends)
        return f"backends {backends or 'none'}; {self.time_constants()}"

    def time_constants(self) -> str:
        """ITTL, max TTL, job time cap, pending timeout and reservation windows, in words.

        >>> Config(interactive_ttl=1).time_constants()
        'ITTL 1s, max TTL 28800s, job time cap 10800s, no pending timeout, no reservation'
        >>> Config(reservations=(Reservation("qpu", "lab-r", 1, 2),)).time_constants().split(", ")[-1]
        'reservation lab-r on qpu from 1s to 2s'
        """
        pending = (
            "no pending timeout"
            if self.pending_timeout is None
            else f"pending timeout {self.pending_timeout}s"
        )
        windows = [f"{r.instance} on {r.backend} from {r.start}s to {r.end}s" for r in self.reservations]
        return ", ".join(
            [
                f"ITTL {self.interactive_ttl}s",
                f"max TTL {self.system_max_ttl}s",
                f"job time cap {self.job_time_cap}s",
                pending,
                ("reservation " + ", ".join(windows)) if windows else "no reservation",
            ]
        )

    def to_dict(self) -> dict[str, Any]:
        """The trace-header form of this configuration (inverse of :meth:`from_dict`)."""
        out: dict[str, Any] = {
            "backends": [{"name": b, "simulator": b in self.simulators} for b in self.backends],
            "system_max_ttl": self.system_max_ttl,
            "interactive_ttl": self.interactive_ttl,
            "job_time_cap": self.job_time_cap,
            "reservations": [r._asdict() for r in self.reservations],
            "pending_timeout": self.pending_timeout,
        }
        return out


_KEYS = frozenset(
    {
        "backends",
        "system_max_ttl",
        "interactive_ttl",
        "job_time_cap",
        "reservations",
        "pending_timeout",
    }
)


def _list(raw: Mapping[str, Any], key: str) -> list[Any]:
    value = raw.get(key, [])
    if not isinstance(value, list):
        raise InvalidInput(f"config.{key}", value, "a list (give [] for none)")
    return value


def identifier(value: object, where: str) -> str:
    """A non-empty string identifier (job, session, backend or instance name)."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(where, value, "a non-empty string")
    return value


def _finite(value: object) -> bool:
    """A JSON number that is neither infinite, NaN, nor too large for a float."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # an integer beyond the float range
        return False


def instant(value: object, where: str) -> Number:
    """A finite, non-negative number of seconds (a point in time)."""
    if not _finite(value) or value < 0:  # type: ignore[operator]
        raise InvalidInput(where, value, "a finite number of seconds >= 0")
    return value  # type: ignore[return-value]


def duration(value: object, where: str) -> Number:
    """A finite, strictly positive number of seconds (a length of time)."""
    if not _finite(value) or value <= 0:  # type: ignore[operator]
        raise InvalidInput(where, value, "a number of seconds > 0")
    return value  # type: ignore[return-value]


def _reservation(entry: object, where: str) -> Reservation:
    if not isinstance(entry, Mapping) or set(entry) != {"backend", "instance", "start", "end"}:
        raise InvalidInput(where, entry, 'an object {"backend": str, "instance": str, "start": t, "end": t}')
    start = instant(entry["start"], f"{where}.start")
    end = instant(entry["end"], f"{where}.end")
    if end <= start:
        raise InvalidInput(f"{where}.end", end, f"a time after start ({start})")
    return Reservation(
        backend=identifier(entry["backend"], f"{where}.backend"),
        instance=identifier(entry["instance"], f"{where}.instance"),
        start=start,
        end=end,
    )
