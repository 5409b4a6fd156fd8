"""Generated Karbon firms: every pillar's entities, shaped like the spec's response schemas.

A firm is generated deterministically from ``(seed, index)`` over ``days`` of history ending on
``end`` (exclusive). Volumes scale with ``days`` so that a 90-day window needs several pages of every
paged endpoint (more than 1000 time entries, more than 100 work items, contacts and invoices).

The data obeys the rules the connector relies on, the way Karbon's does:

* every entity has a PermaKey (12 alphanumeric characters; time entry keys are 32-hex GUIDs);
* cross-pillar references are PermaKeys only (a time entry's ``WorkItemKey`` and ``UserKey``, an
  invoice's ``Client.ClientKey``), never foreign keys;
* a file is created on the day its entity last changed (a contact's ``LastModifiedDateTime``, a work
  item's ``StartDate``), as an upload bumps the entity;
* invoices are updated on or after their ``InvoiceDate``; payments never precede their invoice.

Amounts are kept as :class:`~decimal.Decimal` internally and rendered as JSON numbers, as Karbon does.
"""

from __future__ import annotations

import base64
import json
import random
import string
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

ALPHANUMERIC = string.ascii_letters + string.digits
FIRST_NAMES = ("Ada", "Bora", "Cem", "Deniz", "Elif", "Flora", "Gül", "Hakan", "Ipek", "Jale", "Kerem", "Leyla")
LAST_NAMES = ("Aksoy", "Bilgin", "Cakir", "Demir", "Erdem", "Falk", "Gunes", "Hart", "Isik", "Jensen", "Kaya")
ORG_WORDS = ("Atlas", "Boreal", "Cedar", "Delta", "Ember", "Fjord", "Granite", "Harbor", "Iris", "Juniper")
ORG_SUFFIXES = ("Ltd", "LLC", "Group", "Partners", "Holdings", "Trading")
WORK_TYPES = ("Tax Return", "Bookkeeping", "Payroll", "Advisory", "Audit")
ROLE_NAMES = ("Accountant", "Bookkeeper", "Manager", "Partner", "Reviewer", "Tax Specialist")
TASK_TYPES = ("Preparation", "Review", "Client call", "Data entry", "Research")
CURRENCIES = ("USD", "AUD", "GBP", "NZD", "CAD", "EUR")
MIME_TYPES = (("pdf", "application/pdf"), ("xlsx", "application/vnd.ms-excel"), ("png", "image/png"))
# Karbon's list responses use the spaced PrimaryStatus ('In Progress'); single GETs the no-space enum.
PRIMARY_STATUSES = ("Planned", "Ready To Start", "In Progress", "Waiting", "Completed")


def perma_key(rng: random.Random, length: int = 12) -> str:
    return "".join(rng.choice(ALPHANUMERIC) for _ in range(length))


def guid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def access_key_for(rng: random.Random, tenant_key: str) -> str:
    """A JWT-shaped Access Key (header.payload.signature, Base64URL) with Karbon's claims."""

    def segment(payload: dict[str, Any] | bytes) -> str:
        raw = payload if isinstance(payload, bytes) else json.dumps(payload, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = segment({"alg": "HS256", "typ": "JWT"})
    claims = segment({"iss": "KarbonHQ", "reg": "us2", "tak": tenant_key, "iat": 1700000000})
    signature = segment(rng.randbytes(32))
    return f"{header}.{claims}.{signature}"


@dataclass
class Firm:
    """One Karbon tenant (an accounting firm) with its API credentials and every pillar's data."""

    slug: str
    name: str
    tenant_key: str
    application_id: str
    access_key: str
    currency: str
    users: list[dict[str, Any]] = field(default_factory=list)
    roles: list[dict[str, Any]] = field(default_factory=list)
    teams: list[dict[str, Any]] = field(default_factory=list)
    custom_fields: list[dict[str, Any]] = field(default_factory=list)
    tenant_settings: dict[str, Any] = field(default_factory=dict)
    contacts: list[dict[str, Any]] = field(default_factory=list)
    organizations: list[dict[str, Any]] = field(default_factory=list)
    client_groups: list[dict[str, Any]] = field(default_factory=list)
    work_items: list[dict[str, Any]] = field(default_factory=list)
    work_templates: list[dict[str, Any]] = field(default_factory=list)
    time_entries: list[dict[str, Any]] = field(default_factory=list)
    invoices: list[dict[str, Any]] = field(default_factory=list)
    payments: list[dict[str, Any]] = field(default_factory=list)
    # Details served only by single-entity endpoints, keyed by PermaKey.
    accounting: dict[str, dict[str, Any]] = field(default_factory=dict)
    business_cards: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    custom_field_values: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    invoice_lines: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    invoice_payments: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def _moment_on(rng: random.Random, day: date) -> datetime:
    return midnight(day) + timedelta(seconds=rng.randint(0, 86399))


def _person(rng: random.Random) -> tuple[str, str]:
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def generate_firm(seed: int, index: int, *, days: int, end: date) -> Firm:
    """Generate firm number ``index`` with ``days`` of history before ``end``."""
    rng = random.Random(f"karbon:{seed}:{index}")
    tenant_key = perma_key(rng)
    word = ORG_WORDS[index % len(ORG_WORDS)]
    firm = Firm(
        slug=f"firm-{index + 1}",
        name=f"{word} Accounting {index + 1}",
        tenant_key=tenant_key,
        application_id=guid(rng),
        access_key=access_key_for(rng, tenant_key),
        currency=CURRENCIES[index % len(CURRENCIES)],
    )
    start = end - timedelta(days=days)

    def history_day() -> date:
        return start + timedelta(days=rng.randrange(days))

    _tenant(firm, rng)
    _clients(firm, rng, days, history_day)
    _work(firm, rng, days, history_day)
    _time(firm, rng, days, start)
    _billing(firm, rng, days, history_day, end)
    _files(firm, rng)
    return firm


def _tenant(firm: Firm, rng: random.Random) -> None:
    for _ in range(12):
        first, last = _person(rng)
        firm.users.append(
            {"Id": perma_key(rng), "Name": f"{first} {last}", "EmailAddress": f"{first}.{last}@{firm.slug}.example"}
        )
    firm.roles = sorted(({"Key": perma_key(rng), "Name": name} for name in ROLE_NAMES), key=lambda r: r["Name"])
    parent = None
    for name in ("Tax", "Advisory", "Audit"):
        team = {"TeamKey": perma_key(rng), "Name": name, "Description": f"{name} team", "ParentTeamKey": parent}
        parent = parent or team["TeamKey"]
        firm.teams.append(team)
    for name, kind in (
        ("Industry", "ListSingleSelect"),
        ("Employees", "Number"),
        ("Onboarded", "Date"),
        ("Green tariff", "Boolean"),
    ):
        firm.custom_fields.append(
            {
                "Key": perma_key(rng),
                "Name": name,
                "Type": kind,
                "IsVisibleToContacts": True,
                "IsVisibleToOrganizations": True,
                "ListOptions": ["Manufacturing", "Retail", "Services"] if kind == "ListSingleSelect" else [],
            }
        )
    firm.tenant_settings = {
        "TenantKey": firm.tenant_key,
        "ClientAccessActivated": True,
        "ContactTypes": [{"Name": name, "ContactTypeKey": perma_key(rng)} for name in ("Client", "Prospect")],
        "WorkStatuses": [
            {
                "Name": status,
                "Type": "Primary",
                "Children": [{"Name": f"{status} - default", "Type": "Secondary", "WorkStatusKey": perma_key(rng)}],
            }
            for status in PRIMARY_STATUSES
        ],
        "WorkTypes": [
            {
                "Name": name,
                "WorkTypeKey": perma_key(rng),
                "AvailableStatuses": {"primary": list(PRIMARY_STATUSES), "secondary": []},
            }
            for name in WORK_TYPES
        ],
        "ServiceTypes": [{"Name": "Compliance", "ServiceTypeKey": perma_key(rng), "WorkTypeKeys": []}],
    }


def _accounting(rng: random.Random, key: str, *, organization: bool, legal_name: str, currency: str) -> dict:
    return {
        "ContactPermaKey": None if organization else key,
        "OrganizationPermaKey": key if organization else None,
        "BirthDate": None,
        "DeathDate": None,
        "FinancialYearEndDay": 31,
        "FinancialYearEndMonth": rng.choice((2, 5, 11)),  # 0-indexed: March, June, December
        "IncorporationDate": iso(midnight(date(2000 + rng.randrange(20), 1 + rng.randrange(12), 1)))
        if organization
        else None,
        "LegalName": legal_name,
        "EntityType": rng.choice(("Corporation", "Limited Liability", "Partnership")) if organization else "Person",
        "TaxCountryCode": rng.choice(("US", "AU", "UK", "NZ")),
        "TradingName": legal_name,
        "AnnualRevenue": float(money(rng, 50_000, 5_000_000)) if organization else None,
        "BaseCurrency": currency,
        "IsVATRegistered": organization,
        "PaysTax": True,
        "RegistrationNumbers": [{"RegistrationNumber": perma_key(rng, 9), "Type": "Tax ID"}],
        "Notes": [],
    }


def _business_card(rng: random.Random, entity_type: str, key: str, email: str) -> dict[str, Any]:
    return {
        "BusinessCardKey": perma_key(rng),
        "EntityType": entity_type,
        "EntityKey": key,
        "IsPrimaryCard": True,
        "WebSites": [],
        "EmailAddresses": [email],
        "RoleOrTitle": None,
        "Addresses": [
            {
                "AddressLines": f"{rng.randint(1, 400)} Harbour Street",
                "City": rng.choice(("Auckland", "Sydney", "Leeds", "Denver")),
                "StateProvinceCounty": "",
                "ZipCode": str(rng.randint(1000, 99999)),
                "CountryCode": rng.choice(("NZ", "AU", "GB", "US")),
                "Label": "Physical",
            }
        ],
        "PhoneNumbers": [{"Number": f"555{rng.randint(1000000, 9999999)}", "CountryCode": "1", "Label": "Work"}],
    }


def _custom_values(firm: Firm, rng: random.Random, key: str) -> None:
    firm.custom_field_values[key] = [
        {"Key": definition["Key"], "Name": definition["Name"], "Type": definition["Type"], "Value": [value]}
        for definition, value in zip(
            firm.custom_fields,
            (rng.choice(("Manufacturing", "Retail", "Services")), str(rng.randint(1, 500)), "2021-04-01", "true"),
            strict=True,
        )
    ]


def _clients(firm: Firm, rng: random.Random, days: int, history_day: Any) -> None:
    manager = firm.users[0]["Name"]
    for _ in range(max(3, days * 3 // 2)):
        first, last = _person(rng)
        key = perma_key(rng)
        email = f"{first.lower()}.{last.lower()}.{key[:4].lower()}@client.example"
        changed = _moment_on(rng, history_day())
        firm.contacts.append(
            {
                "@odata.type": "#KarbonService.ContactSummaryDTO",
                "ContactKey": key,
                "FullName": f"{first} {last}",
                "FirstName": first,
                "LastName": last,
                "PreferredName": first,
                "Salutation": "",
                "ClientOwner": manager,
                "ClientManager": manager,
                "Address": None,
                "EmailAddress": email,
                "PhoneNumber": None,
                "RoleOrTitle": "Director",
                "ContactType": "Client",
                "UserDefinedIdentifier": f"C-{key[:6]}",
                "LastModifiedDateTime": iso(changed),
            }
        )
        firm.accounting[key] = _accounting(
            rng, key, organization=False, legal_name=f"{first} {last}", currency=firm.currency
        )
        firm.business_cards[key] = [_business_card(rng, "Contact", key, email)]
        _custom_values(firm, rng, key)
    for _ in range(max(2, days // 2)):
        key = perma_key(rng)
        name = f"{rng.choice(ORG_WORDS)} {rng.choice(ORG_WORDS)} {rng.choice(ORG_SUFFIXES)}"
        email = f"office.{key[:5].lower()}@org.example"
        firm.organizations.append(
            {
                "@odata.type": "#KarbonService.OrganizationSummaryDTO",
                "OrganizationKey": key,
                "FullName": name,
                "PhoneNumber": None,
                "EmailAddress": email,
                "Website": f"https://{key[:6].lower()}.example",
                "ContactType": "Client",
                "LastModifiedDateTime": iso(_moment_on(rng, history_day())),
                "UserDefinedIdentifier": f"O-{key[:6]}",
            }
        )
        firm.accounting[key] = _accounting(rng, key, organization=True, legal_name=name, currency=firm.currency)
        firm.business_cards[key] = [_business_card(rng, "Organization", key, email)]
        _custom_values(firm, rng, key)
    for _ in range(max(1, days // 8)):
        key = perma_key(rng)
        firm.client_groups.append(
            {
                "@odata.type": "#KarbonService.ClientGroupSummaryDTO",
                "ClientGroupKey": key,
                "FullName": f"{rng.choice(LAST_NAMES)} Family Group",
                "PhoneNumber": None,
                "Website": None,
                "LastModifiedDateTime": iso(_moment_on(rng, history_day())),
            }
        )


def _clients_for_work(firm: Firm) -> list[tuple[str, str, str]]:
    return [(c["ContactKey"], "Contact", c["FullName"]) for c in firm.contacts] + [
        (o["OrganizationKey"], "Organization", o["FullName"]) for o in firm.organizations
    ]


def _work(firm: Firm, rng: random.Random, days: int, history_day: Any) -> None:
    work_types = [t["Name"] for t in firm.tenant_settings["WorkTypes"]]
    for title in ("Annual accounts", "Quarterly VAT", "Monthly payroll", "Carbon report", "Tax planning"):
        firm.work_templates.append(
            {
                "WorkTemplateKey": perma_key(rng),
                "Title": title,
                "Description": f"{title} template",
                "WorkTypeKey": rng.choice(firm.tenant_settings["WorkTypes"])["WorkTypeKey"],
                "HasScheduledClientTaskGroups": False,
                "EstimatedBudget": None,
                "DraftHasChanges": False,
                "PublishedDate": "2023-01-10T00:00:00Z",
                "NumberOfWorkItemsCreated": rng.randint(1, 50),
                "DateLastWorkItemCreated": "2024-01-10T00:00:00Z",
                "DateModified": "2023-06-01T00:00:00Z",
                "ActorRoles": [],
            }
        )
    clients = _clients_for_work(firm)
    for _ in range(max(3, days * 2)):
        client_key, client_type, client_name = rng.choice(clients)
        assignee = rng.choice(firm.users)
        template = rng.choice(firm.work_templates)
        start_day = history_day()
        firm.work_items.append(
            {
                "@odata.type": "#KarbonService.WorkItemSummaryDTO",
                "WorkItemKey": perma_key(rng),
                "AssigneeEmailAddress": assignee["EmailAddress"],
                "AssigneeKey": assignee["Id"],
                "AssigneeName": assignee["Name"],
                "Title": f"{template['Title']} {start_day:%b %Y}",
                "ClientKey": client_key,
                "ClientName": client_name,
                "ClientType": client_type,
                "StartDate": iso(midnight(start_day)),
                "DueDate": iso(midnight(start_day + timedelta(days=30))),
                "DeadlineDate": None,
                "WorkType": rng.choice(work_types),
                "WorkStatus": "In Progress",
                "PrimaryStatus": rng.choice(PRIMARY_STATUSES),
                "SecondaryStatus": "",
                "WorkTemplateKey": template["WorkTemplateKey"],
                "WorkTemplateTile": template["Title"],
            }
        )


def _time(firm: Firm, rng: random.Random, days: int, start: date) -> None:
    """About 13 entries a day: one per (user, work item) worked that day, as Karbon aggregates them."""
    for offset in range(days):
        day = start + timedelta(days=offset)
        for _ in range(rng.randint(9, 17)):
            work = rng.choice(firm.work_items)
            user = rng.choice(firm.users)
            minutes = rng.choice((15, 30, 45, 60, 90, 120, 180))
            rate = Decimal(rng.choice((85, 120, 150, 250)))
            firm.time_entries.append(
                {
                    "IndividualTimeEntryKey": uuid.UUID(int=rng.getrandbits(128), version=4).hex,
                    "TimesheetKey": perma_key(rng),
                    "EntityKey": work["WorkItemKey"],
                    "WorkItemKey": work["WorkItemKey"],
                    "ClientKey": work["ClientKey"],
                    "ClientType": work["ClientType"],
                    "UserKey": user["Id"],
                    "RoleName": rng.choice(ROLE_NAMES),
                    "TaskTypeName": rng.choice(TASK_TYPES),
                    "TaskTypeIsBillable": True,
                    "Date": iso(midnight(day)),
                    "Minutes": minutes,
                    "Description": f"{rng.choice(TASK_TYPES)} for {work['ClientName']}",
                    "HourlyRate": float(rate),
                    "TotalCost": float(Decimal(minutes) / 60 * rate),
                    "BilledStatus": rng.choice(("Unbilled", "Billed")),
                    "CreatedDate": iso(_moment_on(rng, day)),
                    "ModifiedDate": iso(_moment_on(rng, day)),
                    "FeeType": "Time and Materials",
                }
            )


def _billing(firm: Firm, rng: random.Random, days: int, history_day: Any, end: date) -> None:
    clients = _clients_for_work(firm)
    for number in range(max(3, days * 3 // 2)):
        client_key, client_type, client_name = rng.choice(clients)
        invoice_day = history_day()
        key = perma_key(rng)
        lines = []
        for _ in range(rng.randint(1, 4)):
            quantity = Decimal(rng.randint(1, 10))
            unit_price = money(rng, 40, 400)
            lines.append(
                {
                    "LineItemKey": guid(rng),
                    "BillableItemEntityKey": rng.choice(firm.work_items)["WorkItemKey"],
                    "BillableItemType": rng.choice(("TimeEntry", "Entity")),
                    "Description": rng.choice(("Bookkeeping", "Tax return", "Advisory", "Payroll run")),
                    "Quantity": float(quantity),
                    "UnitPrice": f"{unit_price:.2f}",
                    "Amount": float(quantity * unit_price),
                    "TaxRate": 15.0,
                    "TaxRateName": "GST",
                }
            )
        subtotal = sum((Decimal(str(line["Amount"])) for line in lines), Decimal(0))
        tax = (subtotal * Decimal("0.15")).quantize(Decimal("0.01"))
        total = subtotal + tax
        status = rng.choice(("AwaitingPayment", "Paid", "Paid", "Approved"))
        payments = []
        if status == "Paid":
            paid_on = min(invoice_day + timedelta(days=rng.randint(0, 20)), end - timedelta(days=1))
            payment = {
                "PaymentKey": perma_key(rng),
                "PaymentReference": f"KPY-{number + 1:04d}",
                "PaymentType": "ManualPayment",
                "PaymentDate": paid_on.isoformat(),
                "GrossAmount": float(total),
                "PaymentMethod": "Bank Transfer",
                "ClientKey": client_key,
                "Client": {"ClientKey": client_key, "ClientType": client_type, "Name": client_name},
            }
            firm.payments.append(payment)
            payments.append(
                {key: payment[key] for key in ("PaymentKey", "PaymentReference", "PaymentType", "PaymentDate")}
                | {"Amount": payment["GrossAmount"]}
            )
        updated = min(
            midnight(invoice_day) + timedelta(days=rng.randint(0, 10), hours=rng.randint(1, 20)),
            midnight(end) - timedelta(seconds=1),
        )
        firm.invoices.append(
            {
                "InvoiceKey": key,
                "InvoiceNumber": f"KIN-{1001 + number}",
                "TotalAmountDue": 0.0 if status == "Paid" else float(total),
                "InvoiceTotal": float(total),
                "InvoiceSubTotal": float(subtotal),
                "InvoiceTaxTotal": float(tax),
                "InvoiceDate": iso(midnight(invoice_day)),
                "PaymentDueDate": iso(midnight(invoice_day + timedelta(days=30))),
                "UpdatedAt": iso(updated),
                "CurrencyCode": firm.currency,
                "PaymentInstructions": None,
                "InvoiceStatus": status,
                "Client": {
                    "ClientKey": client_key,
                    "ClientType": client_type,
                    "Name": client_name,
                    "AddressLine": "1 Main Street",
                    "City": "Auckland",
                    "StateProvinceCounty": "",
                    "ZipCode": "1010",
                    "Country": "NZ",
                    "EmailAddress": "accounts@client.example",
                },
                "TaxLineItems": [{"TaxName": "GST", "TaxValue": float(tax)}],
            }
        )
        firm.invoice_lines[key] = lines
        firm.invoice_payments[key] = payments


def _files(firm: Firm, rng: random.Random) -> None:
    """0-2 files per contact, organization and work item, created on the day the entity changed."""
    owners: list[tuple[str, str]] = [(c["ContactKey"], c["LastModifiedDateTime"]) for c in firm.contacts]
    owners += [(o["OrganizationKey"], o["LastModifiedDateTime"]) for o in firm.organizations]
    owners += [(w["WorkItemKey"], w["StartDate"]) for w in firm.work_items]
    for key, changed in owners:
        day = datetime.fromisoformat(changed.replace("Z", "+00:00")).date()
        attachments = []
        for _ in range(rng.choice((0, 0, 1, 2))):
            extension, mime = rng.choice(MIME_TYPES)
            stem = rng.choice(("statement", "receipt", "utility-bill", "fuel-card"))
            created = _moment_on(rng, day)
            attachments.append(
                {
                    "FileContextKey": perma_key(rng),
                    "FileName": f"{stem}-{key[:4]}.{extension}",
                    "FileSize": rng.randint(10_000, 3_000_000),
                    "MimeType": mime,
                    "DownloadUrl": f"/V3/Files?token={perma_key(rng, 40)}",
                    "DateCreated": iso(created),
                }
            )
        firm.files[key] = attachments
