"""The fast oracle gives the reference oracle's verdicts and reports, on model traces and damaged ones."""

from __future__ import annotations

import io
import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sessionspec.exploration.stateful import CONFIGS, TEMPLATES, resolve_program
from sessionspec.model.config import Config
from sessionspec.model.inputs import FinishJob, Input, Submit, input_to_dict
from sessionspec.model.observations import JobChanged, SessionChanged
from sessionspec.model.world import World
from sessionspec.mutants import MUTANTS
from sessionspec.oracle.fast import FastOracle
from sessionspec.oracle.judge import judge_stream
from sessionspec.oracle.reference import Oracle, TraceDiverged
from sessionspec.traces.reader import JOB_STATES, SESSION_STATES, TraceError, TraceReader
from sessionspec.traces.records import Record, header, record_to_dict, trace_of

OracleClass = type[Oracle] | type[FastOracle]


def outcome(oracle_class: OracleClass, config: Config, records: list[Record]) -> object:
    """What an oracle makes of a trace: its divergence (None: conforms), or the error it raised."""
    oracle = oracle_class(config)
    try:
        for line, record in enumerate(records, start=2):
            oracle.feed(line, record)
        return oracle.finish(len(records) + 1)
    except TraceDiverged as diverged:
        return diverged.divergence
    except Exception as error:  # the reference's own failures must be the fast oracle's too
        return ("raised", type(error).__name__, str(error))


def program(config: Config, actions: list[Any]) -> list[Input]:
    """Inputs resolved from exploration templates against the model's world."""
    return resolve_program(config, actions)[0]


def in_time_order(records: list[Record]) -> list[Record]:
    """Raise each record's t to the latest t before it, so the trace stays readable."""
    out: list[Record] = []
    latest: Any = 0
    for record in records:
        if record.t < latest:
            record = record._replace(t=latest)
        latest = record.t
        out.append(record)
    return out


@st.composite
def damaged(draw: st.DrawFn, records: list[Record]) -> list[Record]:
    """A copy of ``records`` with lines dropped, duplicated, moved or altered (ids reused too)."""
    records = list(records)
    ids = sorted({r.job for r in records if isinstance(r, JobChanged)}) or ["j1"]
    for _ in range(draw(st.integers(1, 3))):
        if not records:
            break
        i = draw(st.integers(0, len(records) - 1))
        kind = draw(st.sampled_from(["drop", "duplicate", "move", "alter", "alter", "reuse"]))
        if kind == "drop":
            del records[i]
        elif kind == "duplicate":
            records.insert(draw(st.integers(i, len(records))), records[i])
        elif kind == "move":
            record = records.pop(i)
            records.insert(draw(st.integers(0, len(records))), record)
        elif kind == "reuse":  # a later submission under an id used before (the model refuses it)
            later, job = draw(st.integers(i, len(records))), draw(st.sampled_from(ids))
            records[later:later] = [
                Submit(records[i].t, job, "qpu1"),
                JobChanged(records[i].t, job, "queued"),
            ]
        else:
            record = records[i]
            if isinstance(record, JobChanged):
                records[i] = record._replace(
                    state=draw(st.sampled_from(JOB_STATES)), job=draw(st.sampled_from([record.job, *ids]))
                )
            elif isinstance(record, SessionChanged):
                records[i] = record._replace(
                    state=draw(st.sampled_from(SESSION_STATES)), accepting=draw(st.booleans())
                )
            else:
                del records[i]
    return in_time_order(records)


traces = st.tuples(st.sampled_from(CONFIGS), st.lists(st.sampled_from(TEMPLATES), max_size=45)).map(
    lambda case: (case[0], list(trace_of(World.empty(case[0]), program(case[0], case[1]))))
)


@settings(max_examples=120)
@given(traces)
def test_model_traces_get_the_same_verdict(case: tuple[Config, list[Record]]) -> None:
    """On every trace the model writes, both oracles conform (or fail) alike."""
    config, records = case
    assert outcome(FastOracle, config, records) == outcome(Oracle, config, records)


@settings(max_examples=300)
@given(traces, st.data())
def test_damaged_traces_get_the_same_report(case: tuple[Config, list[Record]], data: st.DataObject) -> None:
    """Dropped, duplicated, moved, altered and reused lines get the reference's exact report."""
    config, records = case
    broken = data.draw(damaged(records))
    assert outcome(FastOracle, config, broken) == outcome(Oracle, config, broken)


def _reference_stream(data: bytes) -> tuple[Any, ...]:
    """check-trace as it was: the reader and the reference oracle."""
    reader = TraceReader(io.BytesIO(data), "t")
    line = 0
    try:
        oracle = Oracle(reader.read_header().config)
        for line, record in reader:
            oracle.feed(line, record)
        return ("judged", line, oracle.finish(line or None))
    except TraceError as error:
        return ("unreadable", error.line, error.reason)
    except TraceDiverged as diverged:
        return ("judged", line, diverged.divergence)


@settings(max_examples=60)
@given(traces, st.data())
def test_check_trace_on_files_matches_the_reference(
    case: tuple[Config, list[Record]], data: st.DataObject
) -> None:
    """judge_stream on the written file gives what the reference reader and oracle give."""
    config, records = case
    if data.draw(st.booleans()):
        records = data.draw(damaged(records))
    lines = [json.dumps(header(World.empty(config)))] + [json.dumps(record_to_dict(r)) for r in records]
    blob = ("\n".join(lines) + "\n").encode()
    verdict = judge_stream(io.BytesIO(blob), "t")
    expected = _reference_stream(blob)
    if verdict.error is not None:
        assert expected == ("unreadable", verdict.error.line, verdict.error.reason)
    else:
        assert expected == ("judged", verdict.lines, verdict.divergence)


@pytest.mark.parametrize(
    "name",
    [
        "fair-share-during-ittl",
        "session-jobs-lifo",
        "reservations-ignored",
        "inactive-sessions-never-expire",
        "pending-timeout-never-fires",
        "close-keeps-accepting",
        "ended-job-can-finish",
    ],
)
def test_traces_of_mutants_get_the_same_report(name: str) -> None:
    """Traces written by broken models are judged alike, report for report."""
    rng = random.Random(name)
    compared = 0
    for _ in range(12):
        config = rng.choice(CONFIGS)
        actions = [rng.choice(TEMPLATES) for _ in range(40)]
        broken = MUTANTS[name].config(config)
        try:
            records = list(trace_of(World.empty(broken), program(broken, actions)))
        except Exception:  # the mutant broke its own run; try another program
            continue
        assert outcome(FastOracle, config, records) == outcome(Oracle, config, records)
        compared += 1
    assert compared > 0


def test_a_claim_about_a_retired_job_names_the_reference_rule() -> None:
    """A job reported running again long after it ended (and was forgotten) breaks the same rule."""
    records: list[Record] = [
        Submit(0, "j1", "qpu1"),
        JobChanged(0, "j1", "queued"),
        JobChanged(0, "j1", "running"),
        JobChanged(10, "j1", "failed"),
        Submit(20, "j2", "qpu2"),
        JobChanged(20, "j2", "queued"),
        JobChanged(20, "j2", "running"),
        JobChanged(20, "j1", "running"),
    ]
    config = Config(job_time_cap=10)
    reference = outcome(Oracle, config, records)
    # Without j1's record the claim would concern a job no input created (OBS-MATCH).
    assert reference is not None and getattr(reference, "rule", None) not in (None, "OBS-MATCH")
    assert outcome(FastOracle, config, records) == reference


def test_a_reused_id_is_refused_after_its_record_is_forgotten() -> None:
    """A submission reusing an ended job's id must be refused, as the model refuses it."""
    records: list[Record] = [
        Submit(0, "j1", "qpu1"),
        JobChanged(0, "j1", "queued"),
        JobChanged(0, "j1", "running"),
        JobChanged(10, "j1", "failed"),
        Submit(20, "j1", "qpu1"),
        JobChanged(20, "j1", "queued"),
    ]
    config = Config(job_time_cap=10)
    fast = outcome(FastOracle, config, records)
    assert fast is not None and fast == outcome(Oracle, config, records)
    assert "rejected submit" in " ".join(fast.expected)  # type: ignore[attr-defined]


def test_divergence_context_is_rendered_like_the_reference() -> None:
    """The context lines of a report are rendered from the records exactly as the reference does."""
    inputs = [Submit(0, f"j{i}", "qpu1", max_execution_time=5) for i in range(1, 4)]
    records = list(trace_of(World.empty(Config()), inputs))
    records.append(JobChanged(records[-1].t, "j3", "completed"))
    fast = outcome(FastOracle, Config(), records)
    assert fast == outcome(Oracle, Config(), records)
    assert fast is not None and len(fast.context) == 4  # type: ignore[attr-defined]
    assert input_to_dict(inputs[0])["op"] == "submit"


def test_the_expected_start_weighs_the_usage_of_forgotten_jobs() -> None:
    """Where the trace reports no start, the report names the job of the least-used instance,
    counting the QPU time of jobs already forgotten."""
    records: list[Record] = [
        Submit(0, "a", "qpu1", instance="x"),
        JobChanged(0, "a", "queued"),
        JobChanged(0, "a", "running"),
        FinishJob(10, "a", "completed"),
        JobChanged(10, "a", "completed"),
        Submit(20, "b", "qpu1", instance="y"),
        JobChanged(20, "b", "queued"),
        JobChanged(20, "b", "running"),
        Submit(21, "c", "qpu1", instance="x"),
        JobChanged(21, "c", "queued"),
        Submit(22, "d", "qpu1", instance="y"),
        JobChanged(22, "d", "queued"),
        FinishJob(25, "b", "completed"),
        JobChanged(25, "b", "completed"),
    ]
    reference = outcome(Oracle, Config(), records)
    assert reference is not None and "t=25 job d -> running" in reference.expected  # type: ignore[attr-defined]
    assert outcome(FastOracle, Config(), records) == reference
