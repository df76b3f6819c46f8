"""Long generated traces conform, and check-trace judges them in flat memory."""

from __future__ import annotations

import io
import tracemalloc

import pytest

from sessionspec.bench.longtrace import LongTrace
from sessionspec.bench.throughput import Streamed, format_trace_result, trace_benchmark
from sessionspec.oracle.judge import judge_stream
from sessionspec.oracle.reference import Oracle, TraceDiverged
from sessionspec.traces.reader import TraceReader


def test_repeated_blocks_conform_for_the_reference_oracle_too() -> None:
    """Three copies of a block, shifted in time and ids, conform for both oracles."""
    trace = LongTrace(seed=3, block_inputs=60)
    data = trace.text(3 * trace.block_lines).encode()
    assert judge_stream(io.BytesIO(data), "long").status == 0
    reader = TraceReader(io.BytesIO(data))
    oracle = Oracle(reader.read_header().config)
    try:
        for line, record in reader:
            oracle.feed(line, record)
    except TraceDiverged as diverged:  # pragma: no cover - shown only when the test fails
        pytest.fail(str(diverged.divergence))
    assert oracle.finish() is None
    assert "j1" in data.decode() and f"j{1 + 2 * trace.job_ids}" in data.decode()


def _peak_kib(data: bytes) -> int:
    """The most memory judging the trace allocates at once, in KiB."""
    tracemalloc.start()
    try:
        assert judge_stream(io.BytesIO(data), "long").status == 0
        return tracemalloc.get_traced_memory()[1] // 1024
    finally:
        tracemalloc.stop()


def test_judging_four_times_as_many_lines_takes_no_more_memory() -> None:
    """The judge's peak memory does not grow with the length of the trace."""
    trace = LongTrace(seed=1, block_inputs=150)
    short, long = _peak_kib(trace.text(8_000).encode()), _peak_kib(trace.text(32_000).encode())
    assert long < short * 1.25 + 64, (short, long)


def test_streamed_benchmark_reports_memory_as_lines_go_by() -> None:
    """bench --stream judges a piped trace and samples resident memory every tenth of it."""
    result = trace_benchmark(Streamed(20_000))
    assert result["verdict"] == "conforms" and result["lines"] >= 20_000
    assert len(result["rss_kib_by_lines"]) >= 10
    assert "resident memory" in format_trace_result(result)


@pytest.mark.slow
def test_ten_million_streamed_lines_in_flat_memory() -> None:
    """A ten-million-line trace, never held in memory, is judged with resident memory flat after 1M."""
    result = trace_benchmark(Streamed(10_000_000))
    assert result["verdict"] == "conforms"
    samples = dict(result["rss_kib_by_lines"])
    after_first_million = next(kib for lines, kib in sorted(samples.items()) if lines >= 1_000_000)
    assert result["peak_rss_kib"] < after_first_million + 16 * 1024, result
