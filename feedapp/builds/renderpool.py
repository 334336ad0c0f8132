"""Product rendering on every core: mapping is pure Python, so one process renders at one core's
speed and, during paging, takes the interpreter from the threads reading pages.

A build hands batches of products (their snapshot JSON, and the feeds wanting a render) to forked
worker processes, which inherit the build's feed plans and categories at the fork and send back
packed renders; the build keeps them in the snapshot. Small jobs (a webhook's few products) are
rendered in the build's own process: a fork costs more than they do.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from typing import TYPE_CHECKING

from feedapp.builds.snapshot import Key, decode
from feedapp.feed.segments import unpack
from feedapp.feed.taxonomy import CatalogContext

if TYPE_CHECKING:
    from feedapp.builds.builder import FeedBuild

#: Products a batch holds: four pages' worth. Each batch costs the build's own process a round
#: trip and a write to the snapshot, and that process shares the cores with the renders: against
#: batches of 100, an options change on 100k products took 13.6 s instead of 14.3 (medians of
#: four runs each).
BATCH = 400
#: Batches in flight per process before the build waits for the oldest: bounded memory.
IN_FLIGHT = 4
#: Fewer products than this to render are not worth starting processes for.
MIN_PRODUCTS = 1000
#: At most this many processes per build, however many cores the host has: several workers
#: may build at once, and each build's paging needs a core of its own too.
MAX_PROCESSES = 4

#: One render asked for: the product's key, its content (still compressed as the snapshot
#: stores it when the flag says so: the worker process unpacks it, not the build), its digest,
#: and the ids of the feeds wanting it.
Task = tuple[Key, bytes, bool, bytes, list[str]]
#: One render made: as the snapshot keeps it (feed id, product key, the product's digest, the
#: feed's fingerprint, the packed render's facts and XML) and, when the build writes it as it
#: comes (during paging), its XML as it is, so as not to inflate it again (else None).
Made = tuple[str, Key, bytes, bytes, bytes, bytes, bytes | None]

#: The plans and categories a worker process renders with, and whether to send back the XML as
#: it is, set in the build before the fork.
_inherited: tuple[dict[str, FeedBuild], CatalogContext, bool] | None = None


def _render(batch: list[Task]) -> list[Made]:
    """Render a batch in a worker process."""
    plans, catalog, as_is = _inherited
    made = []
    for key, content, compressed, source, wanted in batch:
        product = decode(unpack(content) if compressed else content)
        for feed_id in wanted:
            plan = plans[feed_id]
            rendered = plan.render(product, catalog)
            xml = rendered.xml if as_is else None
            made.append((feed_id, key, source, plan.fingerprint, *rendered.pack(), xml))
    return made


class RenderPool:
    """Forked processes rendering batches in the background; results handed to `keep`, in the
    build's own thread, as they come."""

    def __init__(
        self,
        plans: Iterable[FeedBuild],
        catalog: CatalogContext,
        keep: Callable[[list[Made]], None],
        processes: int | None = None,
        as_is: bool = False,
    ) -> None:
        global _inherited
        _inherited = ({plan.feed.id: plan for plan in plans}, catalog, as_is)
        self.processes = processes or min(len(os.sched_getaffinity(0)), MAX_PROCESSES)
        self._pool = ProcessPoolExecutor(
            self.processes,
            mp_context=multiprocessing.get_context("fork"),
        )
        self._keep = keep
        self._pending: deque[Future] = deque()
        self._batch: list[Task] = []

    def add(self, task: Task) -> None:
        """Ask for one product's renders."""
        self._batch.append(task)
        if len(self._batch) >= BATCH:
            self._send()
        while self._pending and self._pending[0].done():
            self._keep(self._pending.popleft().result())

    def _send(self) -> None:
        self._pending.append(self._pool.submit(_render, self._batch))
        self._batch = []
        while len(self._pending) > self.processes * IN_FLIGHT:
            self._keep(self._pending.popleft().result())

    def finish(self) -> None:
        """Wait for every render asked for, and hand each to `keep`."""
        if self._batch:
            self._send()
        while self._pending:
            self._keep(self._pending.popleft().result())

    def close(self) -> None:
        """Stop the processes (after finish(), or abandoning the work on a failure)."""
        global _inherited
        for future in self._pending:
            future.cancel()
        self._pool.shutdown(wait=True, cancel_futures=True)
        _inherited = None

    def __enter__(self) -> RenderPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
