"""The QNB simulator's state: companies and their accounts, mailboxes, the call log and fault injection.

Kept apart from the HTTP handlers (:mod:`.app`) so that tests read the expected values straight from
the same objects the server answers from: ``sim.invoices(company, direction, window)`` is exactly what
a collector must return, ``sim.calls`` is every request the server answered.
"""

from __future__ import annotations

import random
from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from starlette.applications import Starlette

from integration_hub.simulators.efatura.common import SimulatorState
from integration_hub.simulators.efatura.documents import GeneratedInvoice, generate_mailbox, vkn_with_check
from integration_hub.simulators.qnb import contract
from integration_hub.simulators.qnb.app import SimCall, build_app
from integration_hub.simulators.qnb.mailbox import Mailbox

# Operations that change the account's state. Implemented (so a wrong call "works", as in production)
# and recorded; a collector must never call any of them.
STATE_CHANGING_OPERATIONS = contract.STATE_CHANGING_OPERATIONS
READ_ONLY_OPERATIONS = frozenset(contract.OPERATIONS) - STATE_CHANGING_OPERATIONS

_NAMES = ("Anadolu Enerji", "Boğaziçi Lojistik", "Çukurova Tekstil", "Ege Gıda", "Karadeniz Yapı", "Trakya Kimya")


@dataclass(frozen=True)
class Company:
    slug: str
    vkn: str
    name: str


@dataclass(frozen=True)
class QnbAccount:
    """A web-service user and the company VKN it acts for (``verified=False``: portal account whose
    financial seal / e-signature verification is pending, answered with ``[EF0556]``)."""

    username: str
    password: str
    vkn: str
    verified: bool = True

    def __repr__(self) -> str:
        return f"QnbAccount(username={self.username!r}, password=***, vkn={self.vkn!r}, verified={self.verified})"


def generated_companies(seed: int, count: int) -> list[Company]:
    """``count`` companies with deterministic VKNs (valid check digit) and Turkish trade names."""
    rng = random.Random(f"qnb-companies-{seed}")
    return [
        Company(
            f"c{index}", vkn_with_check(str(rng.randrange(10**8, 10**9))), f"{_NAMES[(index - 1) % len(_NAMES)]} A.Ş."
        )
        for index in range(1, count + 1)
    ]


class QnbSimulator(SimulatorState[SimCall]):
    """A fake QNB e-Solutions tenant set. Serve :attr:`app` with ``simulators.server.running``.

    The call log and ``fail_next``/``fail_rate`` come from :class:`SimulatorState`.
    """

    STATE_CHANGING_OPERATIONS = STATE_CHANGING_OPERATIONS
    READ_ONLY_OPERATIONS = READ_ONLY_OPERATIONS

    def __init__(
        self,
        *,
        seed: int = 1,
        companies: int = 1,
        start: date | None = None,
        days: int = 90,
        per_day: tuple[int, int] = (0, 4),
        accounts: Sequence[QnbAccount] = (),
        credentials: Sequence[tuple[str, str]] = (),
        fail_rate: float = 0.0,
        session_ttl: float = 1800.0,
        list_limit: int = 100,
        download_limit: int = 100,
        outgoing_limit: int = 1000,
        strict_contract: bool = True,
    ) -> None:
        super().__init__(seed=seed, fail_rate=fail_rate)
        self.start = start or date.today() - timedelta(days=days - 1)
        self.days = days
        self.session_ttl = session_ttl
        self.list_limit = list_limit
        self.download_limit = download_limit
        self.outgoing_limit = outgoing_limit
        # True: members in the WSDL's order and SOAPAction "" are enforced; False: tolerated like plain
        # JAX-WS/JAXB (see contract.py: public clients that send other orders report working).
        self.strict_contract = strict_contract
        self.sessions: dict[str, tuple[str, float]] = {}

        self.companies: dict[str, Company] = {c.slug: c for c in generated_companies(seed, companies)}
        rng = random.Random(f"qnb-passwords-{seed}")
        self.accounts: list[QnbAccount] = [
            QnbAccount(f"{c.vkn}.ws", "".join(rng.choices("abcdefghjkmnpqrstuvwxyz23456789", k=12)), c.vkn)
            for c in self.companies.values()
        ]
        first_vkn = next(iter(self.companies.values())).vkn if self.companies else ""
        self.accounts += [QnbAccount(user, password, first_vkn) for user, password in credentials]
        for account in accounts:  # explicit accounts may bring their own company VKN
            if not any(c.vkn == account.vkn for c in self.companies.values()):
                slug = f"c{len(self.companies) + 1}"
                self.companies[slug] = Company(slug, account.vkn, f"{_NAMES[len(self.companies) % len(_NAMES)]} Ltd.")
            self.accounts.append(account)
        if any(not a.username or not a.password or not a.vkn for a in self.accounts):
            raise ValueError("every QNB account needs a username, a password and a company")

        self.mailboxes: dict[str, Mailbox] = {
            company.slug: Mailbox(
                generate_mailbox(seed + index, company.vkn, company.name, self.start, days, per_day=per_day)
            )
            for index, company in enumerate(self.companies.values())
        }
        self.app: Starlette = build_app(self)
        self.app.state.simulator = self

    # -- used by the app ------------------------------------------------------------------------------

    def account(self, username: str | None) -> QnbAccount | None:
        return next((a for a in self.accounts if a.username == username), None)

    def company_of(self, vkn: str) -> Company | None:
        return next((c for c in self.companies.values() if c.vkn == vkn), None)

    # -- for tests and the demo -----------------------------------------------------------------------

    def mailbox(self, company: str) -> list[GeneratedInvoice]:
        """Every invoice of ``company`` (slug), both directions."""
        return list(self.mailboxes[company].invoices)

    def invoices(self, company: str, direction: str, window: Container[date]) -> list[GeneratedInvoice]:
        """The invoices of ``company`` in ``direction`` (``in``/``out``) issued inside ``window``."""
        return [i for i in self.mailboxes[company].invoices if i.direction == direction and i.issue_date in window]


def create_app(**options: Any) -> Starlette:
    """The Starlette app of a new :class:`QnbSimulator`; ``app.state.simulator`` holds its mailbox and
    call log."""
    return QnbSimulator(**options).app
