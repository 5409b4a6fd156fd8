"""Holding a credential lease while a window is collected: wait for it (bounded), renew it, give it back.

The table-level rules are in :mod:`integration_hub.store.leases`; this is the run-side behaviour:

* **waiting**: another run's live lease is polled every ``poll`` seconds for at most ``wait`` seconds, then the
  collection fails with one line naming the holder's run and its expiry. A holder is taken over only when its
  lease expired (it stopped renewing), never because Dagster marked its run failed: a run worker killed with
  SIGKILL can leave a step process behind that still collects and still renews.
* **heartbeat**: a daemon thread renews the lease every ``ttl / 3`` seconds, so a slow provider page (minutes,
  with no records flowing) never lets it lapse; a failed renewal is retried on the next beat.
* **lost**: when the lease was taken over (this process was stalled past the expiry) or could not be renewed
  before it expired, :meth:`CredentialLease.check` raises before the window's rows are written.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Protocol

from integration_hub.store import leases


class LeaseStore(Protocol):
    """Taking, renewing and giving back a lease, each call its own short transaction (the collection service)."""

    def take_lease(self, company: str, integration_id: str, run_id: str, ttl: timedelta) -> leases.Lease | None: ...
    def renew_lease(self, company: str, integration_id: str, run_id: str, ttl: timedelta) -> bool: ...
    def release_lease(self, company: str, integration_id: str, run_id: str) -> bool: ...


class _Log(Protocol):
    def info(self, msg: str) -> None: ...


class CredentialBusy(RuntimeError):
    """Another run held the credential for the whole bounded wait (retryable: it will be free later)."""

    @property
    def description(self) -> str:
        return str(self)


class LeaseLost(RuntimeError):
    """This run no longer holds the credential's lease; its window must not be written."""


class CredentialLease:
    """The lease on (integration, company) for ``run_id``, held inside a ``with`` block."""

    def __init__(
        self,
        hub: LeaseStore,
        *,
        company: str,
        integration_id: str,
        run_id: str,
        siblings: str | None = None,
        ttl: timedelta,
        wait: float,
        poll: float,
        log: _Log,
    ) -> None:
        self.hub = hub
        self.company = company
        self.integration_id = integration_id
        self.run_id = run_id
        self.siblings = siblings
        self.ttl = ttl
        self.wait = wait
        self.poll = poll
        self.log = log
        self._stop = threading.Event()
        self._lost: str | None = None
        self._renewed = time.monotonic()
        self._thread: threading.Thread | None = None

    @property
    def credential(self) -> str:
        return f"{self.integration_id}.{self.company}"

    # ------------------------------------------------------------------ taking
    def acquire(self) -> None:
        """Take the lease (waiting up to ``wait`` seconds) and start renewing it."""
        deadline = time.monotonic() + self.wait
        announced = None
        while True:
            holder = self.hub.take_lease(self.company, self.integration_id, self.run_id, self.ttl)
            if holder is None:
                break
            until = f"{holder.expires_at:%Y-%m-%d %H:%M:%S} UTC"
            busy = f"credential {self.credential} is in use by run {holder.run_id} until {until}"
            # A holder whose id starts with ``siblings`` is another step of this run: waited for without the bound
            # (unless the caller asked not to wait at all).
            sibling = self.wait > 0 and self.siblings is not None and holder.run_id.startswith(self.siblings)
            if not sibling and time.monotonic() + self.poll > deadline:
                raise CredentialBusy(f"{busy}; waited {self.wait:g}s for it")
            if announced != holder.run_id:
                self.log.info(f"{busy}; waiting up to {self.wait:g}s")
                announced = holder.run_id
            time.sleep(self.poll)
        self._renewed = time.monotonic()
        self._thread = threading.Thread(target=self._heartbeat, name=f"lease {self.credential}", daemon=True)
        self._thread.start()

    def _heartbeat(self) -> None:
        interval = self.ttl.total_seconds() / 3
        while not self._stop.wait(interval):
            try:
                if self.hub.renew_lease(self.company, self.integration_id, self.run_id, self.ttl):
                    self._renewed = time.monotonic()
                    continue
                self._lost = f"the lease on {self.credential} was taken over by another run"
                return
            except Exception as exc:
                if time.monotonic() - self._renewed >= self.ttl.total_seconds():
                    self._lost = f"the lease on {self.credential} expired: renewing failed ({type(exc).__name__})"
                    return

    # ------------------------------------------------------------------ while held
    def check(self) -> None:
        if self._lost is None and time.monotonic() - self._renewed >= self.ttl.total_seconds():
            self._lost = f"the lease on {self.credential} expired before it was renewed"
        if self._lost is not None:
            raise LeaseLost(f"{self._lost}; this run stops before writing")

    def guard(self, records: Iterable) -> Iterator:
        """``records``, checking the lease before each one (so a lost lease stops the collection early)."""
        for record in records:
            self.check()
            yield record
        self.check()

    # ------------------------------------------------------------------ giving back
    def release(self) -> None:
        """Stop renewing and delete the lease (if it is still this run's)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        try:
            self.hub.release_lease(self.company, self.integration_id, self.run_id)
        except Exception as error:
            self.log.info(f"{self.credential}: could not release the lease ({type(error).__name__}); it expires")
