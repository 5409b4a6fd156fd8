"""İşNet (NetteFatura) ``InvoiceService.svc``: addresses, namespaces, paging and failure texts.

İşNet publishes no WSDL file; the public clients that record it are summarised in ``efatura.md`` §1.5.
Strongest is a TypeScript client generated from the WSDL (``WSDL_TYPES``); the hand-written
NetteFatura-API (``NETTE``) gives the action form and request samples; a Dolibarr module (``DOLIBARR``)
reads real answers. Values marked *[I]* are our decisions.
"""

from __future__ import annotations

WSDL_TYPES = (
    "guvensoft/quickly-pos-v2@a5568cb4a606f0d0815fbabd82ccf8a6def87161:"
    "referance_old_project/quickly-hq/src/integration/isnet/definitions/"
)
NETTE = "EfeSorogluu/NetteFatura-API@a895c169e8bc4212e9c30e0559dca1f53406e23c"
DOLIBARR = "mbrksntrk/dolibarr-isnet-nettefatura@b47aa5a89ada49e2bc5d4f79a3db7d8013bc876a"

# NETTE:docs/request-samples/SearchInvoice.txt: the operation wrapper and its ``request`` are in tempuri.org,
# the members in the DataContract namespace (WSDL_TYPES: @targetNamespace of every request and answer type).
SERVICE_NAMESPACE = "http://tempuri.org/"
MODEL_NAMESPACE = "http://schemas.datacontract.org/2004/07/EInvoice.Service.Model"
ACTION_PREFIX = "http://tempuri.org/IInvoiceService/"  # NETTE:src/core/soap-client.ts

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

# MinInvoiceDate/MaxInvoiceDate are xs:dateTime in WSDL_TYPES:Request10.ts (DOLIBARR sends ``…T00:00:00``), but
# NETTE's request samples send bare dates (``2022-01-01``). Open point: does İşNet compare the invoice's date or
# its date *and time*? A bare date reads as midnight, so a bare upper bound would drop the last day's invoices
# in the second reading. We send WCF DateTimes without an offset (İşNet reads Turkish local time, DOLIBARR):
# the window's first day at 00:00:00 and its last day at 23:59:59, right under both readings.
DATE_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"

# ErrorMessage fragments (lower-cased) that mean "this VKN / this client IP is not allowed" [I].
IDENTITY_FAILURE_MARKERS = ("firma bulunamad", "yetki", "ip adres", "whitelist", "tanımlı değil", "tanimli degil")
