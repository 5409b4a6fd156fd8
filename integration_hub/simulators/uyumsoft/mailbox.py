"""Accounts and mailboxes of the Uyumsoft-family simulator: who may log in, and what each one sees.

Invoices come from the shared generator (:func:`integration_hub.simulators.efatura.documents.generate_mailbox`);
this module only indexes them the way the ``Integration`` service filters, sorts and describes them.
Values the public material does not show (status per invoice, ``ExecutionDate``'s time of day, numeric
codes) are deterministic choices marked *[I]*.
"""

from __future__ import annotations

import hashlib
import random
import string
from dataclasses import dataclass, field
from datetime import UTC, datetime, time

from integration_hub.simulators.efatura.documents import GeneratedInvoice, vkn_with_check

# String enum values as the platform spells them (note WaitingForAprovement).
INBOX_STATUSES = ("Approved", "WaitingForAprovement", "Approved", "Declined", "Return")
OUTBOX_STATUSES = ("Approved", "SentToGib", "Approved", "WaitingForAprovement", "Queued")
STATUS_CODES = {  # [I] the SDK's numeric codes disagree between README and fixtures; clients key on the string
    "Queued": 1100,
    "SentToGib": 1200,
    "Approved": 1300,
    "WaitingForAprovement": 1400,
    "Declined": 1500,
    "Return": 1600,
}
INVOICE_TYPES = {  # ProfileID -> (Type, TypeCode) with the platform's spelling "ComercialInvoice"
    "TEMELFATURA": ("BaseInvoice", 1),
    "TICARIFATURA": ("ComercialInvoice", 2),
    "EARSIVFATURA": ("eArchive", 5),
    "IHRACAT": ("Export", 4),
}
TIP_TYPES = {  # InvoiceTypeCode -> (InvoiceTipType, code) [I]
    "SATIS": ("Sales", 1),
    "IADE": ("Return", 2),
    "TEVKIFAT": ("Tax", 3),
    "ISTISNA": ("Exception", 4),
    "OZELMATRAH": ("TaxBase", 5),
}


@dataclass(frozen=True)
class Account:
    """A web-service user and the company (VKN) whose mailbox it reads."""

    slug: str
    username: str
    password: str
    vkn: str
    name: str

    def __repr__(self) -> str:
        return f"Account(slug={self.slug!r}, username={self.username!r}, password=***, vkn={self.vkn!r})"


def generated_accounts(count: int, seed: int) -> list[Account]:
    """``count`` accounts with passwords and VKNs derived from ``seed`` (printed by the CLI at start)."""
    rng = random.Random(f"uyumsoft-accounts:{seed}")
    accounts = []
    for number in range(1, count + 1):
        first_nine = str(rng.randint(100_000_000, 999_999_999))
        accounts.append(
            Account(
                slug=f"company-{number}",
                username=f"company{number}.ws",
                password="".join(rng.choices(string.ascii_letters + string.digits, k=14)),
                vkn=vkn_with_check(first_nine),
                name=f"Simulated Company {number} A.Ş.",
            )
        )
    return accounts


def account_from_credentials(pair: str, seed: int) -> Account:
    """``USER:PASS`` → an account of its own (slug from the user name, VKN derived from it)."""
    username, sep, password = pair.partition(":")
    if not sep or not username or not password:
        raise ValueError(f"credentials must look like USER:PASS, got '{username}:…'")
    digest = int.from_bytes(hashlib.sha256(f"{seed}:{username}".encode()).digest()[:8], "big")
    first_nine = str(100_000_000 + digest % 900_000_000)
    slug = "".join(c if c.isalnum() else "-" for c in username.lower()).strip("-") or "custom"
    return Account(slug, username, password, vkn_with_check(first_nine), f"{username} Ltd. Şti.")


def _naive_utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _pick(options: tuple[str, ...], ettn: str) -> str:
    return options[int(hashlib.sha256(ettn.encode()).hexdigest(), 16) % len(options)]


@dataclass
class Mailbox:
    """The invoices of one account, both directions, with the fields the listings show."""

    account: Account
    invoices: list[GeneratedInvoice]
    taken: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.by_ettn = {invoice.ettn.lower(): invoice for invoice in self.invoices}

    @staticmethod
    def execution_date(invoice: GeneratedInvoice) -> datetime:
        """``ExecutionDate``: the invoice's issue date and time [I], so a client that sends a date-only end
        (midnight) misses the last day's invoices, as it would on the real service."""
        issue_time = invoice.spec.issue_time if invoice.spec is not None else time()
        return datetime.combine(invoice.issue_date, issue_time)

    @staticmethod
    def create_date(invoice: GeneratedInvoice) -> datetime:
        return _naive_utc(invoice.created_at)

    @staticmethod
    def status(invoice: GeneratedInvoice) -> str:
        return _pick(INBOX_STATUSES if invoice.direction == "in" else OUTBOX_STATUSES, invoice.ettn)

    @staticmethod
    def scenario(invoice: GeneratedInvoice) -> str:
        return "eArchive" if invoice.profile_id == "EARSIVFATURA" else "eInvoice"

    def find(self, direction: str, key: str, *, by_number: bool = False) -> GeneratedInvoice | None:
        """An invoice of ``direction`` by ETTN (any case) or, when allowed, by its 16-char number."""
        invoice = self.by_ettn.get(key.strip().lower())
        if invoice is None and by_number:
            invoice = next((i for i in self.invoices if i.number == key.strip()), None)
        return invoice if invoice is not None and invoice.direction == direction else None

    def select(
        self,
        direction: str,
        *,
        execution: tuple[datetime | None, datetime | None] = (None, None),
        created: tuple[datetime | None, datetime | None] = (None, None),
        ids: list[str] | None = None,
        numbers: list[str] | None = None,
        scenario: str | None = None,
        status: str | None = None,
        only_newest: bool = False,
        sort_column: str = "Default",
        sort_mode: str = "Default",
    ) -> list[GeneratedInvoice]:
        """The service's filters (all bounds inclusive) and sort. Default order: newest first [I]."""
        wanted_ids = {value.lower() for value in ids} if ids is not None else None
        wanted_numbers = set(numbers) if numbers is not None else None
        rows = [
            invoice
            for invoice in self.invoices
            if invoice.direction == direction
            and _within(self.execution_date(invoice), execution)
            and _within(self.create_date(invoice), created)
            and (wanted_ids is None or invoice.ettn.lower() in wanted_ids)
            and (wanted_numbers is None or invoice.number in wanted_numbers)
            and (scenario is None or self.scenario(invoice) == scenario)
            and (status is None or self.status(invoice) == status)
            and not (only_newest and invoice.ettn.lower() in self.taken)
        ]
        keys = {
            "ExecutionDate": lambda i: (self.execution_date(i), i.ettn),
            "Id": lambda i: i.ettn,
        }
        key = keys.get(sort_column, lambda i: (self.create_date(i), i.ettn))
        descending = sort_mode == "Descending" or (sort_mode != "Ascending" and sort_column == "Default")
        return sorted(rows, key=key, reverse=descending)


def _within(moment: datetime, bounds: tuple[datetime | None, datetime | None]) -> bool:
    first, last = bounds
    return (first is None or moment >= first) and (last is None or moment <= last)
