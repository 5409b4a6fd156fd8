"""İşNet ``InvoiceService.svc`` as its published contract records it: namespaces, actions, member lists.

İşNet publishes no WSDL file, so this is written from the public clients that record it, never from
our connector. Sources, strongest first:

* ``WSDL_TYPES``: guvensoft/quickly-pos-v2, a TypeScript client *generated* from İşNet's WSDL
  (wsdl-tsclient: every type names its target namespace, XSD type and enum values). It fixes the
  request members, their XSD types, and the answer model (``ErrorMessage`` + ``Result`` enum).
* ``NETTE``: EfeSorogluu/NetteFatura-API (MIT), hand-written types and SOAP request samples. It fixes
  the SOAPAction form and the wrapper; its hand-written answer types disagree with the WSDL (see
  :data:`ANSWER_MODELS`), and its samples send bare dates where the WSDL says ``xs:dateTime``.
* ``DOLIBARR``: mbrksntrk/dolibarr-isnet-nettefatura, a PHP module that reads real answers through the
  WSDL (``$result->Result === 'Failed'``, ``$result->ErrorMessage``) and records the service's quirks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integration_hub.simulators.efatura.binding import ANY, Member, Type

WSDL_TYPES = (
    "guvensoft/quickly-pos-v2@a5568cb4a606f0d0815fbabd82ccf8a6def87161:"
    "referance_old_project/quickly-hq/src/integration/isnet/definitions/"
)
NETTE = "EfeSorogluu/NetteFatura-API@a895c169e8bc4212e9c30e0559dca1f53406e23c"
DOLIBARR = "mbrksntrk/dolibarr-isnet-nettefatura@b47aa5a89ada49e2bc5d4f79a3db7d8013bc876a"

# NETTE:src/core/soap-client.ts builds the action as http://tempuri.org/<interface>/<operation>;
# NETTE:docs/request-samples/SearchInvoice.txt puts the operation and its ``request`` in tempuri.org.
SERVICE_NAMESPACE = "http://tempuri.org/"
ACTION_PREFIX = "http://tempuri.org/IInvoiceService/"
# WSDL_TYPES: every request/answer type has @targetNamespace ...EInvoice.Service.Model (NETTE's ``ns6``).
MODEL_NAMESPACE = "http://schemas.datacontract.org/2004/07/EInvoice.Service.Model"
# NETTE:src/constants/endpoints.ts (test and production hosts share the path).
SERVICE_PATH = "/InvoiceService/ServiceContract/InvoiceService.svc"

# WSDL_TYPES:client.ts lists the operations of IInvoiceService; these are the ones simulated.
SEARCH_INVOICE = "SearchInvoice"
VIEWER_LINK = "GetDocumentViewerLink"  # NETTE:docs/request-samples/GetDocumentViewerLink.txt
STATE_CHANGING_OPERATIONS = frozenset(
    {"SendInvoice", "SendInvoiceReply", "ArchiveInvoice", "DeArchiveInvoice", "UpdateInvoiceState"}
)

# WSDL_TYPES enums (``InvoiceDirectionType|xs:string|Incoming,Outgoing`` ...).
DIRECTIONS = ("Incoming", "Outgoing")
INVOICE_TYPES = tuple(
    ["SATIS", "IADE", "ISTISNA", "TEVKIFAT", "OZELMATRAH", "IHRACKAYITLI", "SGK", "KOMISYONCU", "TEVKIFATIADE"]
)
SCENARIO_TYPES = ("None", "TEMELFATURA", "TICARIFATURA", "IHRACAT", "YOLCUBERABERFATURA", "HKS", "KAMU")


def _model(name: str, members: tuple[Member, ...]) -> Type:
    """A DataContract of the model namespace: WCF orders the members of a contract without a base type
    ordinally (``ETTN`` before ``Ettn``), and DataContractSerializer reads them in that order only."""
    return Type(name, tuple(sorted(members, key=lambda m: m.name)), namespace=MODEL_NAMESPACE)


def ordered(members: Mapping[str, Any]) -> dict[str, Any]:
    """``members`` in WCF's ordinal order: how a contract without a base type is written."""
    return {name: members[name] for name in sorted(members)}


# WSDL_TYPES:PagingRequest.ts
PAGING_REQUEST = _model("PagingRequest", (Member("PageNumber", "int"), Member("RecordsPerPage", "int")))
# WSDL_TYPES:ResultSet.ts
RESULT_SET = _model(
    "ResultSet",
    tuple(
        Member(name, "boolean")
        for name in (
            "IsAdditionalTaxIncluded",
            "IsArchiveIncluded",
            "IsAttachmentIncluded",
            "IsExternalUrlIncluded",
            "IsHtmlIncluded",
            "IsInvoiceDetailIncluded",
            "IsPDFIncluded",
            "IsXMLIncluded",
        )
    ),
)
_DATE_FILTERS = ("ApprovalDate", "InvoiceCreationDate", "InvoiceDate", "LastPaymentDate", "OrderDate", "PaymentDate")
# WSDL_TYPES:Request10.ts (the ``request`` of SearchInvoice.ts), every member minOccurs=0. The ETTN filter is
# spelled ``Ettn`` here (and by DOLIBARR); NETTE's hand-written ``ETTN`` is no member and is skipped.
SEARCH_INVOICE_REQUEST = _model(
    "SearchInvoiceRequest",
    (
        Member("CompanyTaxCode", "string"),
        Member("CompanyVendorNumber", "string"),
        Member("CurrencyCode", "string"),
        Member("DispatchNumberList", ANY),
        Member("EnvelopeId", "string"),
        Member("Ettn", "string"),
        Member("ExcludeDetailStatusList", ANY),
        Member("ExcludeStatusList", ANY),
        Member("ExternalInvoiceCode", "string"),
        Member("IncludeDetailStatusList", ANY),
        Member("IncludeStatusList", ANY),
        Member("InvoiceDirection", "enum", choices=DIRECTIONS),
        Member("InvoiceType", "enum", choices=INVOICE_TYPES),
        Member("IsInvoicePaid", "boolean"),
        *(Member(f"{bound}{name}", "dateTime") for bound in ("Max", "Min") for name in _DATE_FILTERS),
        *(Member(f"{bound}InvoiceNumber", "string") for bound in ("Max", "Min")),
        *(Member(f"{bound}TotalPayableAmount", "decimal") for bound in ("Max", "Min")),
        Member("OrderNumber", "string"),
        Member("OrderNumberList", ANY),
        Member("PagingRequest", PAGING_REQUEST),
        Member("ReceiverName", "string"),
        Member("ReceiverTaxCode", "string"),
        Member("ResultSet", RESULT_SET),
        Member("ScenarioType", "enum", choices=SCENARIO_TYPES),
    ),
)
# NETTE:src/types/invoice.types.ts DocumentViewerLinkRequest (its member names; types as strings [I]).
VIEWER_LINK_REQUEST = _model(
    "DocumentViewerLinkRequest",
    (
        Member("CompanyTaxCode", "string"),
        Member("CompanyVendorNumber", "string"),
        Member("Ettn", "string"),
        Member("InvoiceDirection", "enum", choices=DIRECTIONS),
        Member("InvoiceDocumentType", "string"),
        Member("InvoiceNumber", "string"),
    ),
)
# State-changing operations are simulated only far enough to identify the company and log the call.
TENANT_REQUEST = _model("Request", (Member("CompanyTaxCode", "string"), Member("CompanyVendorNumber", "string")))

# How an answer reports success and paging. The sources disagree:
# * "wsdl" (WSDL_TYPES:SearchInvoiceResult.ts, PagingResponse.ts; DOLIBARR reads ``Result === 'Failed'`` and a
#   sibling ``ErrorMessage`` from real answers; NETTE:src/tools/go-live.tool.ts matches ``<a:Result>Success``):
#   base members ``ErrorMessage``, ``Result`` (ResultType enum Success/Failed) come first, then ``Invoices``,
#   ``PagingResponse{PageNumber, RecordsPerPage, TotalNumberOfPages, TotalNumberOfRecords}``;
# * "nettefatura" (NETTE:src/types/common.types.ts, invoice.types.ts, hand-written): ``Result`` is an object
#   ``{IsSuccess, ErrorMessage}`` and ``PagingResponse{CurrentPage, TotalPages, TotalRecords}``.
# The simulator answers "wsdl" (the stronger source) unless told otherwise, so both readings are tested.
ANSWER_MODELS = ("wsdl", "nettefatura")

# How the service compares ``MinInvoiceDate``/``MaxInvoiceDate``. WSDL_TYPES types them ``xs:dateTime`` (and the
# invoice's ``InvoiceDate`` too); NETTE's samples send bare dates (``2022-01-01``), which .NET's xs:dateTime
# reader accepts as midnight. "datetime": the invoice's issue date *and time* is compared with the bounds (a bare
# ``MaxInvoiceDate`` then stops at the last day's 00:00); "date": only calendar dates are compared [I].
DATE_READINGS = ("datetime", "date")

# DOLIBARR:docs/isnet-api-notlari.md ("Sayfalı aramalarda PagingRequest zorunlu").
PAGING_REQUIRED = "Sayfalama isteği zorunludur."
BAD_PAGE = "Sayfa numarası ve sayfadaki kayıt sayısı 1 veya daha büyük olmalıdır."  # [I]
UNKNOWN_COMPANY = "{vkn} vergi numaralı firma bulunamadı."  # [I] DOLIBARR reports "... bulunamadı" texts
IP_NOT_ALLOWED = "{ip} IP adresinin {vkn} vergi numaralı firma adına işlem yetkisi yok."  # [I]
