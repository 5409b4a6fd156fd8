"""How many requests a Uyumsoft-family collector must make (used by the Uyumsoft and CRS Soft tests).

What it must *yield* is compared with :mod:`integration_hub_tests.support.efatura_expectations`.
"""

from __future__ import annotations


def list_and_bulk_requests(count: int, page_size: int = 100, batch: int = 50) -> int:
    """Requests one direction needs: list pages (at least one) plus bulk downloads."""
    return max(1, -(-count // page_size)) + -(-count // batch)


# The operations a collection may call: all of them read; none marks, sends or changes an invoice.
READ_OPERATIONS = {
    "WhoAmI",
    "GetInboxInvoiceList",
    "GetOutboxInvoiceList",
    "GetInboxInvoicesData",
    "GetOutboxInvoicesData",
    "GetInboxInvoiceData",
    "GetOutboxInvoiceData",
}
