"""Uyumsoft ``Integration`` service: addresses, operation names, page sizes and the texts we classify.

Protocol values come from Uyumsoft's published WSDL/XSDs (``shared/efatura-contracts/uyumsoft/``:
``Integration.wsdl`` for the namespace, SOAPActions and policy, ``Integration2.xsd`` = ``?xsd=xsd0`` for
the types); the rest from ``efatura.md`` §1.1 or the *[I]* decision named beside the value. The
simulator reads the same files itself and shares nothing with this module.
"""

from __future__ import annotations

from datetime import timedelta

# Integration.wsdl: targetNamespace, and soapAction="http://tempuri.org/IIntegration/<Operation>" for every
# operation used here (only GetSystemDate* are under ICustomerServiceBase). Integration2.xsd has
# elementFormDefault="qualified": every element of a request is in this namespace, attributes in none.
NAMESPACE = "http://tempuri.org/"
ACTION_PREFIX = "http://tempuri.org/IIntegration/"

# The Integration endpoint. ``base_url`` may be a bare origin (simulators, private deployments): then
# SERVICE_PATH is appended; a ``base_url`` with a path is used verbatim.
SERVICE_PATH = "/Services/Integration"
ENVIRONMENTS: dict[str, str] = {
    "test": "https://efatura-test.uyumsoft.com.tr/Services/Integration",
    "production": "https://edonusumapi.uyum.com.tr/Services/Integration",
}

# Listing operations (metadata only, filters and paging as attributes of ``query``).
LIST_OPERATION = {"in": "GetInboxInvoiceList", "out": "GetOutboxInvoiceList"}
# Bulk download: the same paged query model, narrowed to the ETTNs of a batch (``InvoiceIds``).
BULK_DATA_OPERATION = {"in": "GetInboxInvoicesData", "out": "GetOutboxInvoicesData"}
# One document per call, used only when the deployment does not offer the bulk operation.
DATA_OPERATION = {"in": "GetInboxInvoiceData", "out": "GetOutboxInvoiceData"}
# Credential check without side effects (returns the user and the company VKN).
WHO_AM_I = "WhoAmI"

# Uyumsoft publishes no maximum page size. The SDK default is 20, ERP integrations use 500, a hub capped
# itself at 100 (efatura.md §1.1). 100 metadata rows are a few tens of kB: one list call per 100 invoices.
LIST_PAGE_SIZE = 100
# ETTNs per bulk download call. Documents are full UBL-TR with an embedded XSLT/PDF of 50-500 kB each,
# so 50 keeps one answer in the tens of megabytes; batches span list pages, so page boundaries never
# add a download.
DOCUMENT_BATCH = 50
# No published rate limit [I]: stay well below anything a WCF host would throttle.
REQUESTS_PER_MINUTE = 300

# Sorting by creation time ascending keeps paging stable: an invoice that arrives while we page goes to
# the end of the listing instead of shifting every later page by one (which would skip a row).
SORT_COLUMN = "CreateDate"
SORT_MODE = "Ascending"

# The inclusive end of a window's last day, as ExecutionEndDate expects (a datetime, not a date).
END_OF_DAY = "T23:59:59"

# Integration.wsdl's policy has sp:IncludeTimestamp: every request carries a wsu:Timestamp. Its lifetime is
# not published [I]: five minutes is what WCF's own clients send (and WCF's default clock skew).
TIMESTAMP_LIFETIME = timedelta(minutes=5)

# Application-level failure texts (HTTP 200, IsSucceded="false") that mean "wrong credentials".
UNAUTHORIZED_MESSAGES = ("unauthorized", "yetkiniz yok", "yetkisiz")
# Fault text for "header accepted but the user may not use this service" (S-U4), also what the platform
# answers for a wrong password.
NO_PERMISSION_TEXT = "yetkiniz yok"

AUTH_STYLES = ("ws_security", "user_info")
