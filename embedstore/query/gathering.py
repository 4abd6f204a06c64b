"""Concurrent queries answered together: the nearest-neighbour questions that many threads ask
of one version at the same time, gathered into one call of its searcher (one matrix product,
one top-k, on every core).

A server answers each request on a thread of its own. :class:`GatheringSearcher` is a
:class:`~embedstore.query.search.Searcher` that those threads share: a call joins a queue, and
the thread that finds no batch running answers every call queued by then (up to
``max_targets`` targets) with one call of the searcher it wraps, then hands the next batch to
the oldest call still waiting. There is no thread of its own: callers do the work, one batch
at a time, while later calls queue up for the next one.

- **When a batch closes.** At once when it is full, or when its first call is alone in the
  queue (a lone query never waits); otherwise once ``wait`` seconds have passed since its
  first call arrived.
- **The same answers.** Every call gets exactly what the wrapped searcher answers it alone:
  exact search scores a target the same, bit for bit, alone or among others
  (:mod:`.rescoring`), the best ``k`` of a larger ``k`` are the best ``k``, and an index's calls
  are only gathered with calls asking the same ``k`` (its candidates depend on ``k``).
- **Failures stay alone.** When a batch's call to the searcher fails, its calls are answered
  again one by one, so a bad call fails alone and the others are answered.
- **One product at a time.** Gathering searchers given the same ``product_lock`` (those of
  every version a process serves) never run two products at once, so products do not compete
  for the cores.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .questions import Question, answer_together
from .search import Ranked, Searcher, check_k

DEFAULT_MAX_TARGETS = 64
"""Targets answered by one batch at most (the exact searcher's tile of targets)."""
DEFAULT_WAIT = 0.0005
"""Seconds a batch with more than one call waits for more, counted from its first call."""


@dataclass(frozen=True)
class BatchStats:
    """What one batch was: calls and targets answered, and how it closed."""

    calls: int
    targets: int
    waited: bool
    """True when the batch waited for more calls (its window), False when it ran at once."""
    queued_seconds: float
    """Time from its first call's arrival to the start of its product."""


Observer = Callable[[BatchStats], None]


@dataclass(eq=False)
class _Call:
    question: Question
    arrived: float = field(default_factory=time.monotonic)
    ready: threading.Event = field(default_factory=threading.Event)
    lead: bool = False
    answer: Ranked | None = None
    error: BaseException | None = None

    def outcome(self) -> Ranked:
        if self.error is not None:
            raise self.error
        assert self.answer is not None
        return self.answer


class GatheringSearcher:
    """A searcher shared by threads, answering their concurrent :meth:`nearest` calls together
    through ``searcher`` (see the module's description)."""

    def __init__(self, searcher: Searcher, *, max_targets: int = DEFAULT_MAX_TARGETS,
                 wait: float = DEFAULT_WAIT, product_lock: threading.Lock | None = None,
                 observe: Observer | None = None) -> None:
        self.searcher = searcher
        self.max_targets = max(1, max_targets)
        self.wait = max(0.0, wait)
        self._product = product_lock or threading.Lock()
        self._observe = observe
        self._state = threading.Condition()
        self._queue: list[_Call] = []
        self._running = False
        self.approximate = bool(getattr(searcher, "approximate", False))
        self.exact: GatheringSearcher = self
        """The gathering searcher of the same version's exact search (itself when ``searcher``
        is exact)."""

    def nearest(self, targets: np.ndarray, k: int,
                exclude: Sequence[Iterable[int]] | None = None,
                limit: int | None = None) -> Ranked:
        check_k(k)
        targets = np.asarray(targets, dtype=np.float32)
        excluded = [list(rows) for rows in exclude] if exclude is not None else \
            [[] for _ in range(len(targets))]
        rows: list[np.ndarray] = []
        scores: list[np.ndarray] = []
        for start in range(0, len(targets), self.max_targets):  # a large call takes turns
            stop = start + self.max_targets
            found = self._gathered(_Call(Question(self.searcher, targets[start:stop], k,
                                                  excluded[start:stop], limit)))
            rows += found[0]
            scores += found[1]
        return rows, scores

    def cosines(self, targets: np.ndarray, limit: int | None = None) -> np.ndarray:
        with self._product:
            return self.searcher.cosines(targets, limit)

    def _gathered(self, call: _Call) -> Ranked:
        with self._state:
            self._queue.append(call)
            leading = not self._running
            self._running = True
            self._state.notify_all()  # a leader waiting for its batch to fill
        if not leading:
            call.ready.wait()
            if not call.lead:
                return call.outcome()
        self._lead()
        return call.outcome()

    def _lead(self) -> None:
        """Answer the next batch (it holds this thread's own call, the oldest queued), then
        hand the one after to the oldest call still waiting."""
        batch: list[_Call] = []
        try:
            batch, waited = self._take()
            began = time.monotonic()
            with self._product:
                self._answer(batch)
            if self._observe is not None:
                self._observe(BatchStats(len(batch), _targets(batch), waited,
                                         began - batch[0].arrived))
        finally:
            for call in batch:
                if call.answer is None and call.error is None:
                    call.error = RuntimeError("the batch holding this query failed")
            with self._state:
                if self._queue:
                    successor = self._queue[0]
                    successor.lead = True
                    successor.ready.set()
                else:
                    self._running = False
            for call in batch:
                call.ready.set()

    def _take(self) -> tuple[list[_Call], bool]:
        """The calls of the next batch, oldest first, and whether it waited for more."""
        with self._state:
            waited = False
            deadline = self._queue[0].arrived + self.wait
            while len(self._queue) > 1 and _targets(self._queue) < self.max_targets:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                waited = True
                self._state.wait(remaining)
            batch, total = [], 0
            for call in self._queue:
                if batch and total + len(call.question.targets) > self.max_targets:
                    break
                batch.append(call)
                total += len(call.question.targets)
            del self._queue[: len(batch)]
            return batch, waited

    def _answer(self, batch: list[_Call]) -> None:
        for call, answer in zip(batch, answer_together([c.question for c in batch]),
                                strict=True):
            if isinstance(answer, Exception):
                call.error = answer
            else:
                call.answer = answer


def _targets(calls: list[_Call]) -> int:
    return sum(len(call.question.targets) for call in calls)
