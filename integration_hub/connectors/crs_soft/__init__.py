"""CRS Soft connector: the Uyumsoft-family ``Integration`` service at CRS's address.

CRS runs the Uyumsoft platform (same operations, ``IsSucceded``/``Value`` answers, the
``/Services/Integration`` layout — ``efatura.md`` §1.2 [I]: no CRS WSDL is public), so this connector
*is* :class:`~integration_hub.connectors.uyumsoft.UyumsoftConnector` with CRS's URLs and provider name,
following Uyumsoft's published WSDL/XSDs. What is CRS's own lives in the shared client:

* ``auth_style`` setting: ``ws_security`` (default, the WSDL's policy) or ``user_info`` (a
  ``<tem:userInfo Username=.. Password=../>`` body element before ``<tem:query>``, not in the WSDL);
* an answer with ``IsSucceded="true"`` and no ``Value`` is an empty page (the XSD allows it);
* every bulk answer is checked against the ETTNs asked for, so a deployment that misreads the query and
  answers an empty page fails loudly instead of losing invoices.

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
