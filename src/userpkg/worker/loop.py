"""The worker loop: process tasks while there are any, otherwise wait to be woken or poll."""

from __future__ import annotations

import logging
import threading

from userpkg.core.processing import ExpandProcessor
from userpkg.core.service import Service

log = logging.getLogger(__name__)

POLL_SECONDS = 0.5


class WorkerLoop:
    def __init__(self, processor: ExpandProcessor, poll_seconds: float = POLL_SECONDS) -> None:
        self._processor = processor
        self._poll = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        """New work may be waiting (an expand was just created in this process)."""
        self._wake.set()

    def run(self) -> None:
        log.info("worker started")
        try:
            self._processor.reclaim_abandoned()
        except Exception:
            log.exception("could not take back dead workers' tasks; their leases will run out")
        while not self._stop.is_set():
            try:
                busy = self._processor.step()
            except Exception:
                log.exception("worker step failed; will retry")
                busy = False
            if not busy:
                self._wake.wait(self._poll)
                self._wake.clear()
        log.info("worker stopped")

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)


def attach(service: Service) -> WorkerLoop:
    """Process the service's tasks in a thread, woken by expands created in this process."""
    loop = WorkerLoop(service.processor)
    service.packages.on_created = loop.wake
    service.on_close(loop.stop)
    loop.start()
    return loop
