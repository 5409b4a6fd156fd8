"""EDM Bilişim ``EFaturaEDM.svc``: addresses, operation names, SOAPActions, limits and fault markers.

The wire contract (namespace, SOAPActions, element form and order) follows the svcutil-generated client
of EDM's WSDL, ``Cihandar/EfaturaPortal@8d2c9018f3719ad9ac2b68e1d844cbbf6c2a8c61:EfaturaPortal/Connected
Services/EdmEfatura/Reference.cs`` (REFERENCE below); addresses, limits and the session text come from the
public transcription of EDM's developer guide (V4.2.1) summarised in ``efatura.md`` §1.3. Values marked
*[I]* are our inferences.
"""

from __future__ import annotations

# The namespace of the body element (``{http://tempuri.org/}LoginRequest``) only: every member below it
# (REQUEST_HEADER, USER_NAME, INVOICE_SEARCH_KEY, LIMIT, ...) is ``XmlElement(Form=Unqualified)`` and carries
# no namespace (REFERENCE). A qualified member is not read by the service: it is as if it were missing.
NAMESPACE = "http://tempuri.org/"

# Full service endpoints (the WSDL lives at ``?wsdl``; we never download it at run time).
ENVIRONMENTS: dict[str, str] = {
    "test": "https://test.edmbilisim.com.tr/EFaturaEDM21ea/EFaturaEDM.svc",
    "production": "https://portal2.edmbilisim.com.tr/EFaturaEDM/EFaturaEDM.svc",
}
# Appended when ``base_url`` is a bare origin (``http://127.0.0.1:8403``): the path the simulator serves.
# A ``base_url`` that already has a path is used verbatim.
SERVICE_PATH = "/EFaturaEDM/EFaturaEDM.svc"

# The SOAPAction of an operation is the bare name of its request element: ``OperationContract(
# Action="LoginRequest")``, ``"GetInvoiceRequest"``, ``"LogoutRequest"`` (REFERENCE). Open point: public
# test mocks (not generated from EDM's WSDL) send WCF's default form ``http://tempuri.org/EFaturaEDMPort/<Op>``;
# the generated client is the stronger source, so we send the bare name. WCF refuses an action it does not
# know with ``ActionNotSupported``.
REQUEST_SUFFIX = "Request"

# Operations the collector calls. Login/Logout open and close a session; GetInvoice only reads.
LOGIN = "Login"
LOGOUT = "Logout"
GET_INVOICE = "GetInvoice"
# MarkInvoice is never called: it changes what READ_INCLUDED=false returns for every other client.

# Documents per GetInvoice call with content inline (EDM's documented default; izibiz documents 100 as the
# maximum with content). A page shorter than this is the last one.
LIMIT = 100
# Headers-only page size used to list one over-full CDATE second (see client.EdmClient.invoices) [I]: the
# sibling izibiz API allows 25 000 headers without content; 1000 keeps the answer small.
HEADER_LIMIT = 1000

DIRECTIONS = {"in": "IN", "out": "OUT"}

# REQUEST_HEADER values that identify us to EDM (they appear in EDM's logs, not in any business field).
APPLICATION_NAME = "integration-hub"
CHANNEL_NAME = "integration-hub"
# Login is the one call made before a session exists; the guide says SESSION_ID = 0 there.
LOGIN_SESSION_ID = "0"

# "Aktif session bulunamadı" = "no active session found": the session expired or was logged out. Compared
# after case-folding and Turkish dotless-i folding, because clients report "Aktif Session bulunamadi" too.
SESSION_EXPIRED_MARKER = "aktif session bulunamad"

# Requests per minute per account. EDM publishes no rate limit [?]; this only spaces a burst of pages.
REQUESTS_PER_MINUTE = 600
