"""CRS Soft connector: the Uyumsoft-family ``Integration`` service at CRS's address.

CRS runs the Uyumsoft platform (same 65 operations, ``IsSucceded``/``Value`` answers, the
``/Services/Integration`` layout — ``efatura.md`` §1.2), so this connector *is*
:class:`~integration_hub.connectors.uyumsoft.UyumsoftConnector` with CRS's URLs and provider name. The
CRS quirks live in the shared client, where they are harmless for Uyumsoft too:

* ``auth_style`` setting: ``ws_security`` (default) or ``user_info`` (a ``<tem:userInfo Username=..
  Password=../>`` body element before ``<tem:query>``);
* ``ArrayOfString`` items (the ``InvoiceIds`` of the bulk download) are sent in the service's
  ``tempuri`` namespace — CRS silently answers nothing to WCF's ``…/Serialization/Arrays`` items, and the
  connector checks every bulk answer against the ETTNs it asked for, so such silence would fail loudly;
* an answer with ``IsSucceded="true"`` and no ``Value`` is an empty page.

Public entry: :func:`build_crs_soft` (the ``CONNECTORS`` factory) and :class:`CrsSoftConnector`.
"""

from __future__ import annotations

from collections.abc import Mapping

from integration_hub.connectors.base import ConnectorConfig
from integration_hub.connectors.crs_soft import settings
from integration_hub.connectors.uyumsoft import UyumsoftConnector

__all__ = ["CrsSoftConnector", "build_crs_soft"]


class CrsSoftConnector(UyumsoftConnector):
    """One CRS Soft account: Uyumsoft's client and paging, CRS's addresses."""

    provider = settings.PROVIDER
    label = settings.LABEL
    environments: Mapping[str, str] = settings.ENVIRONMENTS
    default_auth_style = settings.DEFAULT_AUTH_STYLE


def build_crs_soft(config: ConnectorConfig) -> CrsSoftConnector:
    """``CONNECTORS`` factory for ``crs_soft``."""
    return CrsSoftConnector(config)
