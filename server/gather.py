"""Dynamic batching: the ``similar`` and ``analogy`` questions of concurrent requests, gathered
on the event loop and answered together, one batch at a time, by one matrix product per
version on a thread of the process's own (BLAS then uses every core).

A request handler looks its items up, builds its question
(:meth:`embedstore.Embeddings.similar_question`) and awaits :meth:`Gatherer.ask`. When no batch
is running, the oldest question starts one at once if it is alone (a lone request never
waits), or once the batch is full (``batch_size`` targets), or ``wait`` seconds after it
arrived; questions that arrive while a batch runs make up the next one. A batch's questions
are answered by :func:`embedstore.query.questions.answer_together`: one searcher call per
version (and ``restrict``), each answer exactly what the question gets alone, and a question
that fails fails alone.
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

    async def ask(self, question: Question) -> Ranked:
        """The answer to ``question``, as ``question.ask()`` would give it, from a batch."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(question, loop.create_future(), time.monotonic())
        self._queue.append(waiting)
        self._start(loop)
        return await waiting.answer

    def close(self) -> None:
        self._products.shutdown(wait=False, cancel_futures=True)

    def _targets(self) -> int:
        return sum(len(waiting.question.targets) for waiting in self._queue)

    def _start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Start the next batch unless one runs, or it should wait for more questions."""
        if self._running or not self._queue:
            return
        deadline = self._queue[0].arrived + self.wait
        if (len(self._queue) > 1 and self._targets() < self.batch_size
                and time.monotonic() < deadline):
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
        answers = loop.run_in_executor(self._products, answer_together,
                                       [waiting.question for waiting in batch])
        answers.add_done_callback(lambda done: self._finished(loop, batch, stats, done))

    def _window(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        self._start(loop)

    def _finished(self, loop: asyncio.AbstractEventLoop, batch: list[_Waiting],
                  stats: BatchStats, done: asyncio.Future[list[Ranked | Exception]]) -> None:
        self._running = False
        try:
            answers: list[Ranked | Exception] = done.result()
        except BaseException as error:  # the batch itself failed: each of its questions too
            answers = [error if isinstance(error, Exception) else RuntimeError(str(error))
                       ] * len(batch)
        for waiting, answer in zip(batch, answers, strict=True):
            if waiting.answer.done():  # the request went away meanwhile
                continue
            if isinstance(answer, Exception):
                waiting.answer.set_exception(answer)
            else:
                waiting.answer.set_result(answer)
        if self.observe is not None:
            self.observe(stats)
        self._start(loop)
