"""A count over a sliding span of time, kept as a ring of small buckets.

A count leaves the window when its bucket does, so the window slides in bucket-sized steps.
Pure: the caller passes the time.
"""

from __future__ import annotations


class Window:
    __slots__ = ("counts", "marks", "slots", "width")

    def __init__(self, span: float, slots: int) -> None:
        self.width = span / slots
        self.slots = slots
        self.counts = [0] * slots
        self.marks = [-1] * slots  # the absolute bucket number each slot holds

    def total(self, now: float) -> int:
        oldest = int(now // self.width) - self.slots + 1
        return sum(c for m, c in zip(self.marks, self.counts, strict=True) if m >= oldest)

    def add(self, now: float, amount: int) -> int:
        """Count ``amount`` now; returns the bucket it went into (to settle it later)."""
        bucket = int(now // self.width)
        slot = bucket % self.slots
        if self.marks[slot] != bucket:
            self.marks[slot] = bucket
            self.counts[slot] = 0
        self.counts[slot] += amount
        return bucket

    def adjust(self, now: float, bucket: int, delta: int) -> None:
        """Correct a reservation made in ``bucket``; once that bucket has left, only more usage counts."""
        slot = bucket % self.slots
        if self.marks[slot] == bucket:
            self.counts[slot] = max(0, self.counts[slot] + delta)
        elif delta > 0:
            self.add(now, delta)

    def wait(self, now: float, need: int, limit: int) -> float:
        """Seconds until ``need`` more fits under ``limit`` (0 when it fits now)."""
        total = self.total(now)
        if total + need <= limit:
            return 0.0
        oldest = int(now // self.width) - self.slots + 1
        live = sorted((m, c) for m, c in zip(self.marks, self.counts, strict=True) if m >= oldest and c)
        for bucket, count in live:
            total -= count
            if total + need <= limit:
                return max(0.0, (bucket + self.slots) * self.width - now)
        return self.slots * self.width
