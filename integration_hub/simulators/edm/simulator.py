"""The state behind the EDM simulator: accounts, their mailboxes, sessions, the call log and fault knobs.

Kept apart from the HTTP layer (:mod:`.app`) so tests can read the mailbox and the call log, expire
sessions or queue failures while a connector talks to the app over a real socket.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Container, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from integration_hub.simulators.edm.mailbox import TURKEY, Mailbox
from integration_hub.simulators.efatura.common import SimulatorState
from integration_hub.simulators.efatura.documents import generate_mailbox, vkn_with_check

# EDM sessions are not documented; the sibling izibiz API keeps them up to 8 hours [I].
DEFAULT_SESSION_TTL = 8 * 3600.0
STATE_CHANGING_OPERATIONS = frozenset({"MarkInvoice"})

_COMPANY_NAMES = (
    ("acme", "ACME Enerji Sanayi A.Ş."),
    ("globex", "Globex Lojistik Ltd. Şti."),
    ("initech", "Initech Yazılım A.Ş."),
    ("umbrella", "Umbrella Kimya San. ve Tic. A.Ş."),
    ("hooli", "Hooli Tekstil Ltd. Şti."),
)


@dataclass(frozen=True)
class EdmAccount:
    """An EDM portal user and the company it belongs to."""

    slug: str
    username: str
    password: str
    vkn: str
    name: str

    def __repr__(self) -> str:
        return f"EdmAccount(slug={self.slug!r}, username={self.username!r}, password=***, vkn={self.vkn!r})"


@dataclass(frozen=True)
class SimCall:
    """One request the simulator answered: what tests assert on. Never holds a password."""

    operation: str
    account: str | None
    status: int
    fault: str | None = None
    header: dict[str, str] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    returned: int = 0


@dataclass
class Session:
    account: str
    expires_at: float


def default_accounts(count: int, seed: int) -> list[EdmAccount]:
    """``count`` deterministic accounts (``acme``, ``globex``, ...) with seed-derived passwords."""
    rng = random.Random(f"edm-accounts-{seed}")
    accounts = []
    for index in range(count):
        slug, name = _COMPANY_NAMES[index % len(_COMPANY_NAMES)]
        if index >= len(_COMPANY_NAMES):
            slug = f"{slug}{index // len(_COMPANY_NAMES) + 1}"
        accounts.append(
            EdmAccount(
                slug=slug,
                username=f"{slug}.edm",
                password=f"{slug.capitalize()}-{rng.randrange(10**6):06d}",
                vkn=vkn_with_check(str(rng.randrange(10**8, 10**9))),
                name=name,
            )
        )
    return accounts


class EdmSimulator(SimulatorState[SimCall]):
    """Everything the fake ``EFaturaEDM.svc`` knows. See :mod:`integration_hub.simulators.edm`.

    The call log and ``fail_next``/``fail_rate`` come from :class:`SimulatorState`.
    """

    STATE_CHANGING_OPERATIONS = STATE_CHANGING_OPERATIONS

    def __init__(
        self,
        *,
        seed: int = 1,
        accounts: Sequence[EdmAccount] | None = None,
        companies: int = 1,
        start: date | None = None,
        days: int = 90,
        per_day: tuple[int, int] = (0, 4),
        burst_max: int = 4,
        session_ttl: float = DEFAULT_SESSION_TTL,
        fail_rate: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(seed=seed, fail_rate=fail_rate)
        self.start = start or date.today() - timedelta(days=days - 1)
        self.days = days
        self.accounts = {a.slug: a for a in (accounts if accounts is not None else default_accounts(companies, seed))}
        self.session_ttl = session_ttl
        self.clock = clock
        self.sessions: dict[str, Session] = {}
        self._txn = 5_000_000
        self.mailboxes = {
            account.slug: Mailbox(
                generate_mailbox(seed + index, account.vkn, account.name, self.start, days, per_day=per_day),
                seed=seed + index,
                burst_max=burst_max,
            )
            for index, account in enumerate(sorted(self.accounts.values(), key=lambda a: a.slug))
        }

    # -- for tests and the CLI ------------------------------------------------------------------------

    def invoices(self, account: str, direction: str, window: Container[date]) -> list[Any]:
        """The generated invoices of ``account`` in ``direction`` (``in``/``out``) issued inside ``window``
        (any container of days, e.g. a collector's date window)."""
        return [
            entry.invoice
            for entry in self.mailboxes[account].entries
            if entry.invoice.direction == direction and entry.invoice.issue_date in window
        ]

    def expire_sessions(self) -> int:
        """Forget every session now (as a server restart or timeout would); returns how many."""
        with self._lock:
            count = len(self.sessions)
            self.sessions.clear()
            return count

    # -- used by the app ------------------------------------------------------------------------------

    def login(self, username: str, password: str) -> str | None:
        """A new GUID session for a matching user, else ``None``."""
        for account in self.accounts.values():
            if account.username == username and account.password == password:
                session_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
                with self._lock:
                    self.sessions[session_id] = Session(account.slug, self.clock() + self.session_ttl)
                return session_id
        return None

    def session_account(self, session_id: str) -> str | None:
        """The account of a live session; an expired one is forgotten."""
        with self._lock:
            session = self.sessions.get(session_id)
            if session is None:
                return None
            if self.clock() >= session.expires_at:
                del self.sessions[session_id]
                return None
            return session.account

    def logout(self, session_id: str) -> None:
        with self._lock:
            self.sessions.pop(session_id, None)

    def next_txn_id(self) -> int:
        with self._lock:
            self._txn += 1
            return self._txn


def parse_moment(value: str) -> datetime:
    """An xs:date or xs:dateTime; a value without offset is Turkish time, as EDM's own clients send it [I]."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=TURKEY)
