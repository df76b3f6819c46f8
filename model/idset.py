"""A set of identifiers that stays small when the identifiers are numbered (decision D19).

The model refuses a job or session id that was ever used, so a checker that forgets
ended records must still remember their ids. Traces number their ids ("j1", "j2",
... "s17"), so an id made of a prefix and a decimal number is kept as one bit in a
bitmap of its prefix, in chunks of 4,096 numbers; a chunk whose numbers are all used
shrinks to a shared marker. Any other id (no number at its end, a leading zero, more
than 18 digits) is kept as itself.

>>> ids = IdSet()
>>> ids.add("j1"), ids.add("j1"), ids.add("job-x"), ids.add("j01")
(True, False, True, True)
>>> "j1" in ids, "j2" in ids, "j01" in ids, "job-x" in ids
(True, False, True, True)
>>> ids.discard("j1")
>>> "j1" in ids, len(ids)
(False, 2)
"""

from __future__ import annotations

_DIGITS = "0123456789"
_CHUNK_SHIFT = 12  # 4,096 numbers per chunk
_CHUNK_MASK = (1 << _CHUNK_SHIFT) - 1
_CHUNK_BYTES = 1 << (_CHUNK_SHIFT - 3)
_FULL = b"\xff" * _CHUNK_BYTES  # every number of the chunk is used: no bitmap needed
_MAX_DIGITS = 18


class IdSet:
    """Remembers every id added; ``add`` says whether the id is new."""

    __slots__ = ("_chunks", "_count", "_others")

    def __init__(self) -> None:
        self._chunks: dict[tuple[str, int], bytearray | bytes] = {}
        self._others: set[str] = set()
        self._count = 0

    def __len__(self) -> int:
        return self._count

    def __contains__(self, value: str) -> bool:
        prefix = value.rstrip(_DIGITS)
        digits = value[len(prefix) :]
        if not digits or len(digits) > _MAX_DIGITS or (digits[0] == "0" and len(digits) > 1):
            return value in self._others
        number = int(digits)
        chunk = self._chunks.get((prefix, number >> _CHUNK_SHIFT))
        low = number & _CHUNK_MASK
        return chunk is not None and bool(chunk[low >> 3] & (1 << (low & 7)))

    def add(self, value: str) -> bool:
        """Remember ``value``; True if it was not there before."""
        prefix = value.rstrip(_DIGITS)
        digits = value[len(prefix) :]
        if not digits or len(digits) > _MAX_DIGITS or (digits[0] == "0" and len(digits) > 1):
            if value in self._others:
                return False
            self._others.add(value)
            self._count += 1
            return True
        number = int(digits)
        key = (prefix, number >> _CHUNK_SHIFT)
        chunk = self._chunks.get(key)
        if chunk is None:
            chunk = self._chunks[key] = bytearray(_CHUNK_BYTES)
        low = number & _CHUNK_MASK
        index, bit = low >> 3, 1 << (low & 7)
        byte = chunk[index]
        if byte & bit:
            return False
        assert isinstance(chunk, bytearray), "a full chunk holds every number already"
        chunk[index] = byte | bit
        self._count += 1
        if byte | bit == 0xFF and chunk == _FULL:
            self._chunks[key] = _FULL
        return True

    def discard(self, value: str) -> None:
        """Forget ``value`` (just added, for an input refused after all)."""
        prefix = value.rstrip(_DIGITS)
        digits = value[len(prefix) :]
        if not digits or len(digits) > _MAX_DIGITS or (digits[0] == "0" and len(digits) > 1):
            if value in self._others:
                self._others.discard(value)
                self._count -= 1
            return
        number = int(digits)
        key = (prefix, number >> _CHUNK_SHIFT)
        chunk = self._chunks.get(key)
        low = number & _CHUNK_MASK
        index, bit = low >> 3, 1 << (low & 7)
        if chunk is None or not chunk[index] & bit:
            return
        if not isinstance(chunk, bytearray):
            chunk = self._chunks[key] = bytearray(chunk)
        chunk[index] &= ~bit
        self._count -= 1

    def memory_chunks(self) -> int:
        """How many bitmaps are held (full chunks excluded): what the set costs beyond its markers."""
        return sum(1 for chunk in self._chunks.values() if chunk is not _FULL)
