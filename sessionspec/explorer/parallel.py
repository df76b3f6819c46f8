"""The breadth-first search on several cores: one level at a time, split among workers.

Each level's frontier is cut into ranges; worker processes, forked with a copy of
the states visited so far, expand their ranges and send back the successors they
have not seen, with their counts. The parent process merges them in frontier order,
so the states, their parent links and the verdict are those of the one-process
search; the counterexample is as short (a violation is found at the smallest depth),
though on a level with several violations a different one may be reported first.
Rule-exercise counts can be slightly higher: a state two workers both reach in one
level is checked by both.

>>> from sessionspec.explorer.presets import PRESETS
>>> one = run_parallel(Search(PRESETS["tiny"], count_exercised=False, max_states=400), workers=1)
>>> one.verdict
'incomplete'
"""

from __future__ import annotations

import itertools
import multiprocessing
import time
from collections import Counter
from typing import Any

from sessionspec.explorer.bfs import Finding, Search, SearchResult
from sessionspec.model.world import World

# fewer frontier states than this are not worth the processes
SMALL_LEVEL = 200
# the (search, frontier) of the level being expanded: inherited by the forked workers
_LEVEL: tuple[Search, list[tuple[World, int]]] | None = None


def run_parallel(search: Search, workers: int) -> SearchResult:
    """Run ``search`` with ``workers`` processes (1: in this process, level by level)."""
    global _LEVEL
    result = search.result
    started = time.perf_counter()
    frontier, finding = search.start()
    context = multiprocessing.get_context("fork")
    while frontier and finding is None:
        next_frontier: list[tuple[World, int]] = []
        if workers == 1 or len(frontier) < SMALL_LEVEL:
            for world, fp in frontier:  # exactly the one-process search
                finding = search.expand(world, fp, next_frontier)
                if finding is not None:
                    break
        else:
            _LEVEL = (search, frontier)
            cuts = [len(frontier) * i // (workers * 4) for i in range(workers * 4 + 1)]
            with context.Pool(workers) as pool:
                pieces = pool.map(_expand_range, list(itertools.pairwise(cuts)))
            _LEVEL = None
            for piece in pieces:
                _merge(search, piece, next_frontier)
                if piece["finding"] is not None:
                    finding = piece["finding"]
                    break
        if search.max_states is not None and result.states >= search.max_states:
            result.complete = False
            break
        if next_frontier and finding is None:
            result.depth += 1
        if search.progress is not None:
            result.seconds = time.perf_counter() - started
            search.progress(result, len(next_frontier))
        frontier = next_frontier
    return search.finish(finding, started)


def _expand_range(bounds: tuple[int, int]) -> dict[str, Any]:
    """In a forked worker: expand ``frontier[start:stop]``; return what it adds."""
    assert _LEVEL is not None, "a level is being expanded"
    search, frontier = _LEVEL
    result = search.result
    result.transitions = 0
    result.edges, result.exercised = Counter(), Counter()
    result.session_states, result.job_states = Counter(), Counter()
    search.settled, search.time_next = {}, {}
    found: list[tuple[int, tuple[int, int], World]] = []
    finding: Finding | None = None
    for world, fp in frontier[bounds[0] : bounds[1]]:
        reached: list[tuple[World, int]] = []
        finding = search.expand(world, fp, reached)
        found += [(after_fp, result.parents[after_fp], after) for after, after_fp in reached]
        if finding is not None:
            break
    return {
        "found": found,
        "finding": finding,
        "transitions": result.transitions,
        "edges": result.edges,
        "exercised": result.exercised,
        "session_states": result.session_states,
        "job_states": result.job_states,
        "settled": search.settled,
        "time_next": search.time_next,
    }


def _merge(search: Search, piece: dict[str, Any], frontier: list[tuple[World, int]]) -> None:
    """Add one range's successors and counts to the search, in frontier order."""
    result = search.result
    for after_fp, link, after in piece["found"]:
        if after_fp not in result.parents:
            result.parents[after_fp] = link
            result.states += 1
            frontier.append((after, after_fp))
    result.transitions += piece["transitions"]
    result.edges.update(piece["edges"])
    result.exercised.update(piece["exercised"])
    result.session_states.update(piece["session_states"])
    result.job_states.update(piece["job_states"])
    search.settled.update(piece["settled"])
    for fp, after_fp in piece["time_next"].items():
        search.time_next.setdefault(fp, after_fp)
