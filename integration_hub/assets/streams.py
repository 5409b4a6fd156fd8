"""The table of collected streams: one Dagster asset per (integration, stream).

Each e-invoice integrator has one stream (``invoices``); Karbon has one per pillar. Adding a provider
means adding rows here (plus its connector): the factory builds the asset, and the sensor, schedule and
job are built per integration from these rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg

OWNER = "team:data-engineering"


@dataclass(frozen=True)
class StreamSpec:
    integration_id: str
    stream: str
    key: tuple[str, ...]
    description: str
    kinds: frozenset[str]
    # Reference data without history: a run records the provider's current state on its window's last day
    # only, and leaves earlier days' snapshots in place (replacing the whole window would erase them).
    snapshot: bool = False

    @property
    def asset_key(self) -> dg.AssetKey:
        import dagster as dg  # the table itself is read by the CLI (health), which need not import Dagster

        return dg.AssetKey(list(self.key))

    @property
    def group(self) -> str:
        return self.integration_id


def _einvoice(integration_id: str, name: str) -> StreamSpec:
    return StreamSpec(
        integration_id=integration_id,
        stream="invoices",
        key=("efatura", integration_id),
        description=(
            f"Incoming and outgoing e-Fatura / e-Arşiv invoices from {name}, parsed from UBL-TR: one 'invoice' "
            "record per document (keyed by ETTN + direction) and one 'invoice_line' record per line, "
            "partitioned by company and issue date."
        ),
        kinds=frozenset({"soap", "xml", "python"}),
    )


KARBON_PILLARS: dict[str, str] = {
    "tenant": "Users, roles, teams, custom field definitions and tenant settings (reference data without history: "
    "each run records the current state on its window's last day and keeps earlier days' snapshots).",
    "work": "Work items by start date (the only range filter Karbon offers for work).",
    "contacts": "Contacts and organizations changed in the window (read newest-first, stopping below the window), "
    "client groups, and the business cards and custom field values of the changed clients.",
    "time": "Individual time entries by entry date: minutes, rate, cost, work item, client and user keys.",
    "ar": "Invoices by invoice date with their line items, and payments by payment date.",
    "content_items": "Files created in the window on the contacts and organizations that changed in it and on the "
    "work items that start in it (work items have no change date; notes and comments have no list endpoint).",
    "accounting": "Accounting details (legal name, entity type, base currency, registrations) of the clients that "
    "changed in the window.",
}

STREAMS: tuple[StreamSpec, ...] = (
    _einvoice("edm", "EDM Bilişim"),
    _einvoice("qnb_esolutions", "QNB e-Solutions"),
    _einvoice("crs_soft", "CRS Soft"),
    _einvoice("isnet", "İşNet"),
    _einvoice("uyumsoft", "Uyumsoft"),
    *(
        StreamSpec(
            integration_id="karbon",
            stream=pillar,
            key=("karbon", pillar),
            description=f"Karbon {pillar} pillar. {text}",
            kinds=frozenset({"rest", "python"}),
            snapshot=pillar == "tenant",
        )
        for pillar, text in KARBON_PILLARS.items()
    ),
)


def integrations() -> tuple[str, ...]:
    """Integration ids with collected streams, in table order."""
    return tuple(dict.fromkeys(spec.integration_id for spec in STREAMS))


def streams_of(integration_id: str) -> tuple[StreamSpec, ...]:
    return tuple(spec for spec in STREAMS if spec.integration_id == integration_id)


def stream_names() -> dict[str, tuple[str, ...]]:
    """The streams each integration collects, by name: what health expects to find collected."""
    names: dict[str, tuple[str, ...]] = {}
    for spec in STREAMS:
        names[spec.integration_id] = (*names.get(spec.integration_id, ()), spec.stream)
    return names
