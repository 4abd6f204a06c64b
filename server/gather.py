"""Dynamic batching: the ``similar`` and ``analogy`` questions of concurrent requests, gathered
on the event loop and answered together, one batch at a time, by one matrix product per
version on a thread of the process's own.

A request handler looks its items up, builds its question
(:meth:`embedstore.Embeddings.similar_question`) and awaits :meth:`Gatherer.ask`. When no batch
is running, the queue's oldest question starts the next batch:

- at once when it is alone and the worker is idle (a lone request never waits; "at once" is
  the same turn of the event loop, so requests read together are answered together);
- otherwise when the batch is full (``batch_size`` targets), or ``wait`` seconds after its
  first question arrived, whichever comes first; questions that arrive while a batch runs
  make up the next one;
- right after a batch of several, the next one also waits for that batch's clients to ask
  again (as many questions as it answered), up to ``wait`` or :data:`RETURN_SHARE` of that
  batch's product time, whichever is longer. Without it, clients fall into two cohorts that
  never merge: one cohort's batch runs while the other's requests queue behind it.

A batch's questions are answered by :func:`embedstore.query.questions.answer_together`: one
searcher call per version (and ``restrict``), each answer exactly what the question gets
alone, and a question that fails fails alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from embedstore.query.gathering import BatchStats
from embedstore.query.questions import Question, answer_together
from embedstore.query.search import Ranked

RETURN_SHARE = 0.05
"""Share of a batch's product time the next batch may wait for the first one's clients."""
MAX_RETURN_SECONDS = 0.05
"""The longest such wait."""
INLINE_SECONDS = 0.002
"""A batch of one question whose kind last took less than this runs on the event loop itself
(two thread hand-offs cost a lone request more than the loop's short pause costs others)."""


@dataclass(eq=False)
class _Waiting:
    question: Question
    answer: asyncio.Future[Ranked]
    arrived: float


class Gatherer:
    """The batches of one process (one event loop)."""

    def __init__(self, *, batch_size: int, wait: float,
                 observe: Callable[[BatchStats], None] | None = None) -> None:
        self.batch_size = max(1, batch_size)
        self.wait = max(0.0, wait)
        self.observe = observe
        self._products = ThreadPoolExecutor(max_workers=1,
                                            thread_name_prefix="embedstore-products")
        self._queue: list[_Waiting] = []
        self._running = False
        self._timer: asyncio.TimerHandle | None = None
        self._waited = False
        self._scheduled = False
        self._returning = 0
        """Questions the last batch answered that have not been followed by new ones."""
        self._hold_until = 0.0
        self._lone_seconds = INLINE_SECONDS
        """How long the last batch of one question took (unknown at first: not short)."""

    async def ask(self, question: Question) -> Ranked:
        """The answer to ``question``, as ``question.ask()`` would give it, from a batch."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(question, loop.create_future(), time.monotonic())
        self._queue.append(waiting)
        self._returning = max(0, self._returning - 1)
        if not self._scheduled:  # after the requests already read this turn join the queue
            self._scheduled = True
            loop.call_soon(self._turn, loop)
        return await waiting.answer

    def _turn(self, loop: asyncio.AbstractEventLoop) -> None:
        self._scheduled = False
        self._start(loop)

    def close(self) -> None:
        self._products.shutdown(wait=False, cancel_futures=True)

    def _targets(self) -> int:
        return sum(len(waiting.question.targets) for waiting in self._queue)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the next batch unless one runs, or it should wait for more questions."""
        if self._running or not self._queue:
            return
        deadline = self._queue[0].arrived + self.wait
        if self._returning:  # clients of the last batch of several are about to ask again
            deadline = max(deadline, self._hold_until)
        company = len(self._queue) > 1 or self._returning > 0
        if company and self._targets() < self.batch_size and time.monotonic() < deadline:
            self._waited = True
            if self._timer is None:
                self._timer = loop.call_later(deadline - time.monotonic(), self._window, loop)
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, total = [], 0
        for waiting in self._queue:
            if batch and total + len(waiting.question.targets) > self.batch_size:
                break
            batch.append(waiting)
            total += len(waiting.question.targets)
        del self._queue[: len(batch)]
        stats = BatchStats(len(batch), total, self._waited,
                           time.monotonic() - batch[0].arrived)
        self._running, self._waited = True, False
        began = time.monotonic()
        questions = [waiting.question for waiting in batch]
        if len(batch) == 1 and self._lone_seconds < INLINE_SECONDS:
            answered = answer_together(questions)  # short: on the loop, without a hand-off
            self._lone_seconds = time.monotonic() - began
            self._finished(loop, batch, stats, began, answered)
            return
        answers = loop.run_in_executor(self._products, answer_together, questions)
        answers.add_done_callback(lambda done: self._finished(
            loop, batch, stats, began, _outcome(done, len(batch))))

    def _window(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        self._start(loop)

    def _finished(self, loop: asyncio.AbstractEventLoop, batch: list[_Waiting],
                  stats: BatchStats, began: float, answers: list[Ranked | Exception]) -> None:
        self._running = False
        ended = time.monotonic()
        if len(batch) == 1:
            self._lone_seconds = ended - began
        self._returning = len(batch) if len(batch) > 1 else 0
        self._hold_until = ended + max(self.wait, min(MAX_RETURN_SECONDS,
                                                      RETURN_SHARE * (ended - began)))
        for waiting, answer in zip(batch, answers, strict=True):
            if waiting.answer.done():  # the request went away meanwhile
                continue
            if isinstance(answer, Exception):
                waiting.answer.set_exception(answer)
            else:
                waiting.answer.set_result(answer)
        if self.observe is not None:
            self.observe(stats)
        if not self._scheduled:  # after the answered requests' handlers have run
            self._scheduled = True
            loop.call_soon(self._turn, loop)


def _outcome(done: asyncio.Future[list[Ranked | Exception]], size: int
             ) -> list[Ranked | Exception]:
    """A batch's answers, or its failure as the answer of each of its questions."""
    try:
        return done.result()
    except BaseException as error:
        failure = error if isinstance(error, Exception) else RuntimeError(str(error))
        return [failure] * size
