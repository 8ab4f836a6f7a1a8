"""The loops of the local stack (stream pumps, the scheduler, the bucket mirror) run in daemon threads
that stop when asked; this is their one shape."""

from __future__ import annotations

import threading

STOP_TIMEOUT_SECONDS = 10


class BackgroundLoop:
    """Runs `_run` in its own thread; `_run` waits on `self._stop` between rounds and ends when set."""

    def __init__(self, name: str) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=STOP_TIMEOUT_SECONDS)

    def _run(self) -> None:
        raise NotImplementedError
