"""İşNet (NetteFatura) ``InvoiceService.svc``: addresses, namespaces, paging and failure texts.

Sources are summarised in ``efatura.md`` §1.5; values marked *[I]* there are our decisions, repeated
here so that the client and the simulator agree on them.
"""

from __future__ import annotations

SERVICE_NAMESPACE = "http://tempuri.org/"  # operation wrapper and its ``request`` parameter
MODEL_NAMESPACE = "http://schemas.datacontract.org/2004/07/EInvoice.Service.Model"  # DataContract members
ACTION_PREFIX = "http://tempuri.org/IInvoiceService/"

ENVIRONMENTS: dict[str, str] = {
    "test": "https://einvoiceservicetest.isnet.net.tr/InvoiceService/ServiceContract/InvoiceService.svc",
    "production": "https://einvoiceservice.isnet.net.tr/InvoiceService/ServiceContract/InvoiceService.svc",
}
# Appended when ``base_url`` is a bare origin (``http://127.0.0.1:8405``): the path the simulator serves.
# A ``base_url`` that already has a path is used verbatim.
SERVICE_PATH = "/InvoiceService/ServiceContract/InvoiceService.svc"

SEARCH_INVOICE = "SearchInvoice"
DIRECTIONS = {"in": "Incoming", "out": "Outgoing"}

# PageNumber is 1-based. İşNet publishes no maximum for RecordsPerPage; 100 is what we ask for, and the
# loop follows the PagingResponse the service returns, so a service that clamps the size still works.
RECORDS_PER_PAGE = 100
# No published rate limit [I]; the token bucket keeps us polite and tests raise it.
REQUESTS_PER_MINUTE = 120

# WCF DateTime without an offset (İşNet reads it as Turkish local time). The upper bound is the last
# second of the window's last day, so invoices that carry an issue time are not cut off.
DATE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"

# ErrorMessage fragments (lower-cased) that mean "this VKN / this client IP is not allowed" [I].
IDENTITY_FAILURE_MARKERS = ("firma bulunamad", "yetki", "ip adres", "whitelist", "tanımlı değil", "tanimli degil")
