"""EDM Bilişim ``EFaturaEDM.svc``: addresses, operation names, SOAPActions, limits and fault markers.

Sources are the public transcription of EDM's developer guide (V4.2.1) and the raw-SOAP clients
summarised in ``efatura.md`` §1.3; values marked *[I]* are our inferences, kept here in one place so that
the client and the simulator agree on them.
"""

from __future__ import annotations

# WCF service namespace; request and response children are qualified (elementFormDefault="qualified").
NAMESPACE = "http://tempuri.org/"

# Full service endpoints (the WSDL lives at ``?wsdl``; we never download it at run time).
ENVIRONMENTS: dict[str, str] = {
    "test": "https://test.edmbilisim.com.tr/EFaturaEDM21ea/EFaturaEDM.svc",
    "production": "https://portal2.edmbilisim.com.tr/EFaturaEDM/EFaturaEDM.svc",
}
# Appended when ``base_url`` is a bare origin (``http://127.0.0.1:8403``): the path the simulator serves.
# A ``base_url`` that already has a path is used verbatim.
SERVICE_PATH = "/EFaturaEDM/EFaturaEDM.svc"

# WCF's default action is ``<namespace><contract>/<operation>``; the generated client is called
# ``EFaturaEDMPortClient``, so the contract (port type) is ``EFaturaEDMPort`` [I].
ACTION_PREFIX = "http://tempuri.org/EFaturaEDMPort/"

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
