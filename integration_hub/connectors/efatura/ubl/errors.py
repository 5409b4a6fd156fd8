"""The one error the UBL layer raises.

A subclass of :class:`ProviderError` because an unreadable invoice is the provider handing us something
we cannot use: the collection of that window fails loudly (one line naming the problem) instead of
silently writing an inventory without the invoice.
"""

from __future__ import annotations

from integration_hub.connectors.base import ProviderError


class InvoiceParseError(ProviderError):
    """A document that is not a readable UBL-TR invoice (or is hostile). ``str()`` is one line."""
