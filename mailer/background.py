"""The dispatcher inside the console: a daemon thread with its own event loop.

The console starts it when PORTAL_MAILER_IN_CONSOLE is on (the default) and stops it on
exit. Nothing here raises into the console: failures are logged and the loop goes on.
"""
from __future__ import annotations

import asyncio
import logging
import threading

from typing import TYPE_CHECKING

from store.config import Config

if TYPE_CHECKING:
    from .dispatcher import Dispatcher

log = logging.getLogger("mailer")


class BackgroundMailer:
    """Runs the outbox dispatcher in a daemon thread until stop()."""

    def __init__(self, config: Config) -> None:
        self._config = config
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._dispatcher: Dispatcher | None = None
        # stop() may come before or during start() (the console quits at once): after it,
        # nothing starts.
        self._lock = threading.Lock()
        self._closing = False

    @property
    def running(self) -> bool:
        """True while the dispatcher thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the dispatcher thread (once); returns when its loop is ready."""
        try:
            with self._lock:
                if self._closing or self.running:
                    return
                self._ready.clear()
                self._thread = threading.Thread(target=self._run, name="portal-mailer", daemon=True)
                self._thread.start()
            self._ready.wait(timeout=5.0)
        except Exception:
            log.exception("the background mailer could not start")

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main())
        except BaseException:
            log.exception("the background mailer stopped on an error")
        finally:
            self._ready.set()
            loop.close()

    async def _main(self) -> None:
        # Imported here, on the mailer's thread: SMTP and templates cost the console's start nothing.
        from .dispatcher import Dispatcher

        self._stop = asyncio.Event()
        dispatcher = self._dispatcher = Dispatcher(self._config, role="console")
        self._ready.set()
        if self._closing:
            await dispatcher.close()
            return
        try:
            await dispatcher.serve(self._stop)
        finally:
            await dispatcher.close()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the dispatcher to stop and wait up to ``timeout`` s; unfinished claims go back
        to the queue (or, if even that can't be written, wait for the lease)."""
        try:
            with self._lock:
                self._closing = True
                thread = self._thread
            if thread is None or not thread.is_alive():
                return
            self._ready.wait(timeout)  # a thread still starting has no stop event yet
            loop, stop = self._loop, self._stop
            if self._dispatcher is not None:
                # The message on the wire gets most of the time; releasing claims needs the rest.
                self._dispatcher.stop_grace = max(0.1, timeout * 0.6)
            if loop is not None and stop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(stop.set)
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the background mailer did not stop within %g s; its claims wait for the lease", timeout)
        except Exception:
            log.exception("stopping the background mailer failed")
