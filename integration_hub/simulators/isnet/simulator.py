"""The İşNet simulator's state: companies (known by VKN), their invoices, the call log, fault injection.

Kept apart from the HTTP handlers (:mod:`.app`) so that tests read the expected values straight from
the objects the server answers from: ``sim.invoices(company, direction, window)`` is exactly what a
collector must return, ``sim.calls`` is every request the server answered.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Container, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from starlette.applications import Starlette

from integration_hub.simulators.efatura.common import SimulatorState
from integration_hub.simulators.efatura.documents import GeneratedInvoice, generate_mailbox, vkn_with_check
from integration_hub.simulators.isnet.app import build_app
from integration_hub.simulators.isnet.calls import SimCall
from integration_hub.simulators.isnet.contract import (
    ANSWER_MODELS,
    DATE_READINGS,
    SEARCH_INVOICE,
    STATE_CHANGING_OPERATIONS,
    VIEWER_LINK,
)

TEST_VKN = "4810173324"  # İşNet's public test company (NETTE:src/tools/go-live.tool.ts, DOLIBARR docs)
READ_ONLY_OPERATIONS = frozenset({SEARCH_INVOICE, VIEWER_LINK})
_NAMES = ("Marmara Enerji", "Akdeniz Lojistik", "İç Anadolu Un", "Toros Çimento", "Yeşilırmak Tarım")


@dataclass(frozen=True)
class IsnetCompany:
    """A company known to İşNet by its VKN; ``allowed_ips`` is the production IP whitelist (``None``:
    any client, as on the test service)."""

    slug: str
    vkn: str
    name: str
    allowed_ips: frozenset[str] | None = None


def generated_vkns(seed: int, count: int) -> list[str]:
    """İşNet's test VKN first, then deterministic VKNs with a valid check digit."""
    rng = random.Random(f"isnet-companies-{seed}")
    return [TEST_VKN] + [vkn_with_check(str(rng.randrange(10**8, 10**9))) for _ in range(count - 1)]


class IsnetSimulator(SimulatorState[SimCall]):
    """A fake İşNet InvoiceService. Serve :attr:`app` with ``simulators.server.running``.

    The call log and ``fail_next``/``fail_rate`` come from :class:`SimulatorState`.
    """

    STATE_CHANGING_OPERATIONS = STATE_CHANGING_OPERATIONS
    READ_ONLY_OPERATIONS = READ_ONLY_OPERATIONS

    def __init__(
        self,
        *,
        seed: int = 1,
        companies: int = 1,
        vkns: Sequence[str] = (),
        start: date | None = None,
        days: int = 90,
        per_day: tuple[int, int] = (0, 4),
        walled: dict[str, frozenset[str]] | None = None,
        fail_rate: float = 0.0,
        max_page_size: int = 100,
        answer_model: str = "wsdl",
        dates: str = "datetime",
    ) -> None:
        super().__init__(seed=seed, fail_rate=fail_rate)
        if answer_model not in ANSWER_MODELS or dates not in DATE_READINGS:
            raise ValueError(f"answer_model must be one of {ANSWER_MODELS}, dates one of {DATE_READINGS}")
        self.start = start or date.today() - timedelta(days=days - 1)
        self.days = days
        self.max_page_size = max_page_size
        self.answer_model = answer_model
        self.dates = dates

        all_vkns = list(dict.fromkeys([*generated_vkns(seed, companies), *vkns, *(walled or {})]))
        self.companies: dict[str, IsnetCompany] = {}
        for index, vkn in enumerate(all_vkns, start=1):
            slug = f"c{index}"
            name = f"{_NAMES[(index - 1) % len(_NAMES)]} A.Ş."
            self.companies[slug] = IsnetCompany(slug, vkn, name, (walled or {}).get(vkn))
        self.datasets: dict[str, list[GeneratedInvoice]] = {
            company.slug: sorted(
                generate_mailbox(seed + index, company.vkn, company.name, self.start, days, per_day=per_day),
                key=lambda i: (i.created_at, i.ettn),
            )
            for index, company in enumerate(self.companies.values())
        }
        self.app: Starlette = build_app(self)
        self.app.state.simulator = self

    # -- used by the app ------------------------------------------------------------------------------

    def company_of(self, vkn: str) -> IsnetCompany | None:
        return next((c for c in self.companies.values() if c.vkn == vkn), None)

    def ordered(self, slug: str) -> list[GeneratedInvoice]:
        """The company's invoices in the order İşNet pages them (creation time, then ETTN)."""
        return self.datasets[slug]

    @staticmethod
    def is_archived(invoice: GeneratedInvoice) -> bool:
        """About one invoice in eight has been moved to the portal archive (deterministic by ETTN) [I]."""
        return hashlib.sha256(invoice.ettn.lower().encode()).digest()[0] % 8 == 0

    # -- for tests and the demo -----------------------------------------------------------------------

    def mailbox(self, company: str) -> list[GeneratedInvoice]:
        """Every invoice of ``company`` (slug), both directions."""
        return list(self.datasets[company])

    def invoices(self, company: str, direction: str, window: Container[date]) -> list[GeneratedInvoice]:
        """The invoices of ``company`` in ``direction`` (``in``/``out``) issued inside ``window`` (any
        container of dates)."""
        return [i for i in self.datasets[company] if i.direction == direction and i.issue_date in window]


def create_app(**options: Any) -> Starlette:
    """The Starlette app of a new :class:`IsnetSimulator`; ``app.state.simulator`` holds its invoices and
    call log."""
    return IsnetSimulator(**options).app
