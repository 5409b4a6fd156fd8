"""QNB e-Solutions (eFinans) connectorService: addresses, operation names, limits and fault codes.

The wire contract (namespace, members, their order and form) follows the client generated from QNB's WSDL,
tnhnclskn/efinans-php @ a89ee938f92b2f8e82e0d1d7828b44e8bdf6e8b6 (``src/Type/*.php``); service behaviour
is summarised in ``efatura.md`` §1.4 and §4. Anything QNB has not published is marked *[I]* (our
decision). The simulator is written from those sources on its own, so a wrong value here fails its tests.
"""

from __future__ import annotations

# JAX-WS service namespace of the operation element (efatura.md §1.4 S-Q4; QNB's saved answers). Members
# are unqualified: no namespace, never the service's (a qualified member is not bound and reads as missing).
NAMESPACE = "http://service.connector.uut.cs.com.tr/"
# The SOAPAction header, quoted: '""'. Open point: no public source records the WSDL's soapAction. A JAX-WS
# service generated from Java declares soapAction="" (and dispatches on the body element), and the public
# raw clients that read real answers (a Business Central extension, a Python adapter with a live TEST1 run)
# send exactly "" -- the strongest evidence, so that is what we send.
SOAP_ACTION = ""

# Full connectorService endpoints (the WSDL lives at ``?wsdl``; we never download it at run time).
ENVIRONMENTS: dict[str, str] = {
    "test": "https://erpefaturatest1.qnbesolutions.com.tr/efatura/ws/connectorService",
    "production": "https://connector.qnbesolutions.com.tr/connector/ws/connectorService",
}
# Appended when ``base_url`` is a bare origin (``http://127.0.0.1:8404``): the path the simulator serves.
# A ``base_url`` that already has a path is used verbatim.
SERVICE_PATH = "/efatura/ws/connectorService"

# The only operations the collector calls. All of them are read-only.
LIST_INCOMING = "gelenBelgeleriListeleExt"
DOWNLOAD_INCOMING = "gelenBelgeleriIndir"
LIST_OUTGOING = "gidenBelgeleriListele"
DOWNLOAD_OUTGOING = "gidenBelgeleriIndirEttn"

DOCUMENT_TYPE = "FATURA"
DOCUMENT_FORMAT = "UBL"
DATE_FORMAT = "%Y%m%d"  # yyyyMMdd in requests and responses; timestamps are yyyyMMddHHmmssSSS

# "At most 100 records" per incoming list call (QNB docs); a shorter page means the cursor is exhausted.
INCOMING_PAGE_SIZE = 100
# ETTNs per gelenBelgeleriIndir / gidenBelgeleriIndirEttn call [I]: QNB publishes no limit, so we use the
# one limit it does publish (100 per incoming list call): one download per listed page, and a response
# of at most 100 UBL documents (tens of megabytes of base64 even with embedded PDF/XSLT attachments).
DOWNLOAD_BATCH = 100
# gidenBelgeleriListele has no paging and no published cap [I]. A response holding this many rows is
# treated as truncated and the date range is split in two (see QnbClient.outgoing_documents).
OUTGOING_LIST_CAP = 1000

# 180 requests per minute per account: the limit QNB communicates to ERP integrators.
REQUESTS_PER_MINUTE = 180

# Fault codes ("[EFxxxx] text" in faultstring; the simulator also puts the code in faultcode).
FAULT_UNVERIFIED = "EF0556"  # "Mali mühür veya e-imza doğrulaması gereklidir." (public material)
FAULT_LOGIN_FAILED = "EF0003"  # [I] exact wrong-password text is unpublished; see AUTH_FAILURE_MARKERS
FAULT_VKN_NOT_AUTHORISED = "EF0010"  # [I] the user may not act for the requested VKN
# Because QNB's wrong-password text is unpublished, a fault whose text mentions a login/password problem
# (lower-cased fragments) or a WS-Security fault code (``soap.WS_SECURITY_FAULT_CODES``) is also treated
# as rejected credentials.
AUTH_FAILURE_MARKERS = (
    "oturum aç",
    "şifre",
    "parola",
    "kullanıcı adı",
    "giriş başarısız",
    "login",
    "password",
    "authentication",
)
