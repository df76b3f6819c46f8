"""Retired records, kept out of memory until a divergence report needs some of them.

A live world forgets a record once it can change nothing any more (decision D19). A
trace may still name it later, wrongly: a job reported running again after it ended.
The rule such a line breaks depends on the record, so the checker writes each retired
record to an anonymous temporary file (deleted when closed, or when the process ends)
and reads the file back only to explain a divergence: memory stays flat, and the
report is the one the reference oracle, which keeps every record, would give.

>>> store = RetiredStore()
>>> store.add(("job", (0, "j1", "qpu1", None, "default", None, "completed", 0, 0, 5, "complete")))
>>> store.find({"j1"}, set())
([], [(0, 'j1', 'qpu1', None, 'default', None, 'completed', 0, 0, 5, 'complete')])
>>> store.close()
"""

from __future__ import annotations

import marshal
import os
import tempfile
from collections.abc import Collection, Iterator
from typing import IO, Any

_BATCH = 512  # records per write: few calls, little memory


class RetiredStore:
    """An append-only file of retired records.

    Each is ``("job", fields)`` or ``("session", fields, [fields of its jobs])``.
    """

    def __init__(self) -> None:
        self._pending: list[tuple[Any, ...]] = []
        self._file: IO[bytes] | None = None
        self.count = 0

    def add(self, entry: tuple[Any, ...]) -> None:
        self._pending.append(entry)
        self.count += 1
        if len(self._pending) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._pending:
            return
        if self._file is None:
            self._file = tempfile.TemporaryFile(prefix="sessionspec-retired-")  # noqa: SIM115 - closed by close()
        marshal.dump(self._pending, self._file)
        self._pending = []

    def find(
        self, job_ids: Collection[str], session_ids: Collection[str]
    ) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
        """The fields of the retired sessions and jobs named, each with its session's whole group."""
        sessions: list[tuple[Any, ...]] = []
        jobs: list[tuple[Any, ...]] = []
        for entry in self._entries():
            if entry[0] == "job":
                if entry[1][1] in job_ids:
                    jobs.append(entry[1])
            elif entry[1][1] in session_ids or any(job[1] in job_ids for job in entry[2]):
                sessions.append(entry[1])
                jobs.extend(entry[2])
        return sessions, jobs

    def _entries(self) -> Iterator[tuple[Any, ...]]:
        """Every retired record, oldest first, one batch in memory at a time."""
        if self._file is not None:
            self._file.flush()
            self._file.seek(0)
            size = os.fstat(self._file.fileno()).st_size
            while self._file.tell() < size:
                yield from marshal.load(self._file)
            self._file.seek(0, os.SEEK_END)
        yield from self._pending

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
