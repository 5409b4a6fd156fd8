"""EDM's ``EFaturaEDM.svc`` contract as the svcutil-generated client records it: every name, order and form.

EDM publishes no WSDL file, but svcutil generated a client from it, and that client records the contract:

    Cihandar/EfaturaPortal@8d2c9018f3719ad9ac2b68e1d844cbbf6c2a8c61:
    EfaturaPortal/Connected Services/EdmEfatura/Reference.cs

Everything below is transcribed from that file (called REFERENCE in the comments), never from our connector:

* the operation contract ``EFaturaEDMPort`` uses ``XmlSerializerFormat`` with unwrapped message contracts
  (``MessageContract(IsWrapped=false)``): the SOAP body holds one element named like the request class
  (``LoginRequest``) in ``http://tempuri.org/`` (``MessageBodyMember(Namespace="http://tempuri.org/")``);
* ``OperationContract(Action="LoginRequest", ReplyAction="LoginResponse")``: the SOAPAction is the bare
  request name, the same as the body element's local name;
* every member is ``XmlElement(Form=Unqualified, Order=n)``: no namespace, in ``Order``. Request classes
  derive from ``REQUEST`` whose one member ``REQUEST_HEADER`` comes first (XmlSerializer writes base-class
  members before derived ones);
* ``INVOICE``'s ``TRXID``, ``UUID`` and ``ID`` are ``XmlAttribute`` s, its members ``HEADER``, ``CONTENT``;
* faults are ``FaultContract(typeof(REQUEST_ERRORType), Name="RequestFault")``.

Types: a C# ``string`` is ``xs:string`` unless ``DataType="token"``/``"normalizedString"``; ``DateTime`` is
``xs:dateTime`` unless ``DataType="date"``; ``int``/``long``/``bool``/``decimal`` as in XSD; an enum is
its listed names. ``required`` marks a value-type member without a ``…Specified`` companion: XmlSerializer
always writes it (``minOccurs=1``). Members whose types the simulator never reads or writes (UBL
fragments, ``CHANGE_INFO``, ``ATTRIBUTES``) are kept for their position with type ``anyType``.
"""

from __future__ import annotations

from dataclasses import dataclass

from integration_hub.simulators.efatura.binding import Member, Type

REFERENCE = (
    "Cihandar/EfaturaPortal@8d2c9018f3719ad9ac2b68e1d844cbbf6c2a8c61:"
    "EfaturaPortal/Connected Services/EdmEfatura/Reference.cs"
)
# XmlType(Namespace=...) of every class and MessageBodyMember(Namespace=...) of every body part (REFERENCE).
NAMESPACE = "http://tempuri.org/"
# The service's paths: production ``portal2.edmbilisim.com.tr/EFaturaEDM/EFaturaEDM.svc`` and test
# ``test.edmbilisim.com.tr/EFaturaEDM21ea/EFaturaEDM.svc`` (shared/reference/efatura.md §1.3).
SERVICE_PATHS = ("/EFaturaEDM/EFaturaEDM.svc", "/EFaturaEDM21ea/EFaturaEDM.svc")
# ServiceContract(ConfigurationName="EdmEfatura.EFaturaEDMPort"): the port type's name (REFERENCE).
PORT_TYPE = "EFaturaEDMPort"


# Enumerations (REFERENCE ``enum INVOICE_CONTENT_TYPE``, ``enum MarkInvoiceRequestMARKValue``).
ENUMS: dict[str, tuple[str, ...]] = {
    "INVOICE_CONTENT_TYPE": ("XML", "PDF", "HTML", "ALL"),
    "MarkInvoiceRequestMARKValue": ("READ", "UNREAD"),
}


def _enum(name: str, enum: str) -> Member:
    """A member of enumeration type ``enum``: XmlSerializer reads only its listed names."""
    return Member(name, enum, choices=ENUMS[enum])


# REFERENCE class REQUEST_HEADERType.
REQUEST_HEADER = Type(
    "REQUEST_HEADERType",
    (
        Member("SESSION_ID", "token"),
        Member("CLIENT_TXN_ID", "token"),
        Member("INTL_TXN_ID", "long"),
        Member("INTL_PARENT_TXN_ID", "long"),
        Member("ACTION_DATE", "dateTime"),
        Member("CHANGE_INFO", "anyType"),
        Member("REASON", "token"),
        Member("APPLICATION_NAME", "token"),
        Member("HOSTNAME", "token"),
        Member("CHANNEL_NAME", "token"),
        Member("SIMULATION_FLAG", "token"),
        Member("COMPRESSED", "token"),
        Member("ATTRIBUTES", "anyType", repeated=True),
    ),
)
# REFERENCE class REQUEST: the base of every request class.
_HEADER = Member("REQUEST_HEADER", REQUEST_HEADER)

# REFERENCE class LoginRequest : REQUEST.
LOGIN_REQUEST = Type("LoginRequest", (_HEADER, Member("USER_NAME"), Member("PASSWORD")))
# REFERENCE class LogoutRequest : REQUEST (no members of its own).
LOGOUT_REQUEST = Type("LogoutRequest", (_HEADER,))

# REFERENCE class GetInvoiceRequestINVOICE_SEARCH_KEY.
INVOICE_SEARCH_KEY = Type(
    "GetInvoiceRequestINVOICE_SEARCH_KEY",
    (
        Member("LIMIT", "int"),
        Member("ID", "normalizedString"),
        Member("UUID", "normalizedString"),
        Member("FROM", "token"),
        Member("TO", "token"),
        Member("START_DATE", "date"),
        Member("END_DATE", "date"),
        Member("READ_INCLUDED", "boolean"),
        Member("DIRECTION", "token"),
        Member("SENDER", "token"),
        Member("RECEIVER", "token"),
        Member("CR_START_DATE", "dateTime"),
        Member("CR_END_DATE", "dateTime"),
        Member("CONNECTORSTATUSDESCRIPTION", "normalizedString"),
        Member("ISARCHIVED", "boolean"),
        Member("ERP_STATUS"),
        Member("PAYABLE_AMOUNT", "anyType"),
        Member("LASTPAYMENT_START_DATE", "dateTime"),
        Member("LASTPAYMENT_END_DATE", "dateTime"),
        Member("SUBSCRIBER", "token"),
        Member("ERP_REFERENCE", "normalizedString"),
        Member("OFFSET", "int"),
        Member("ISOBJECTION", "boolean"),
        Member("ISACTIVE", "boolean"),
    ),
)
# REFERENCE class GetInvoiceRequest : REQUEST.
GET_INVOICE_REQUEST = Type(
    "GetInvoiceRequest",
    (
        _HEADER,
        Member("INVOICE_SEARCH_KEY", INVOICE_SEARCH_KEY),
        Member("HEADER_ONLY", "token"),  # [DefaultValueAttribute("N")]: absent means "N"
        _enum("INVOICE_CONTENT_TYPE", "INVOICE_CONTENT_TYPE"),
        Member("GENERATE_ENTITY"),
    ),
)

# REFERENCE class AmountType: a decimal with a ``currencyID`` attribute (simple content).
AMOUNT = Type("AmountType", attributes=(Member("currencyID"),), content="decimal")

# REFERENCE class INVOICEHEADER (anonymous type of INVOICE.HEADER).
INVOICE_HEADER = Type(
    "INVOICEHEADER",
    (
        Member("SENDER", "token"),
        Member("RECEIVER", "token"),
        Member("SUPPLIER"),
        Member("CUSTOMER"),
        Member("ISSUE_DATE", "date"),
        Member("PAYABLE_AMOUNT", AMOUNT),
        Member("FROM", "token"),
        Member("TO", "token"),
        Member("PROFILEID", "token"),
        Member("STATUS"),
        Member("STATUS_DESCRIPTION"),
        Member("GIB_STATUS_CODE", "int"),
        Member("GIB_STATUS_DESCRIPTION"),
        Member("RESPONSE_CODE"),
        Member("RESPONSE_DESCRIPTION"),
        Member("FILENAME"),
        Member("HASH"),
        Member("CDATE", "dateTime"),
        Member("ENVELOPE_IDENTIFIER", "token"),
        Member("INTERNETSALES", "boolean", required=True),
        Member("EARCHIVE", "boolean", required=True),
        Member("INTERNETSALESDETAILS", "anyType"),
        Member("INVOICESERIAL_REQUESTED", "token"),
        Member("EXPORT_GTB_REFNO", "token"),
        Member("EXPORT_GTB_GCB_TESCILNO", "token"),
        Member("EXPORT_GTB_FIILI_IHRACAT_TARIHI", "date"),
        Member("INVOICE_TYPE", "token"),
        Member("INVOICE_SEND_TYPE", "token"),
        Member("EARCHIVE_REPORT_UUID", "token"),
        Member("EARCHIVE_REPORT_SENDDATE", "date", required=True),
        Member("EARCHIVE_REPORT_STATUS", "token"),
        Member("EARCHIVE_REPORT_STATUSDESC", "token"),
        Member("CANCEL_EARCHIVE_REPORT_UUID", "token"),
        Member("CANCEL_EARCHIVE_REPORT_SENDDATE", "date", required=True),
        Member("CANCEL_EARCHIVE_REPORT_STATUSDESC", "token"),
        Member("CANCEL_EARCHIVE_REPORT_STATUS", "token"),
        Member("ERP_REFERENCE", "token"),
        Member("DIRECTION", "token"),
        Member("ISACTIVE", "boolean"),
        Member("MOBILE", "token"),
        Member("MARKED", "boolean"),
        Member("TAX_TOTAL", "anyType", repeated=True),
        Member("WITHHOLDING_TAX_TOTAL", "anyType", repeated=True),
        Member("ERP_STATUS"),
        Member("REASON_MESSAGE"),
    ),
)
# REFERENCE class INVOICE. CONTENT is REFERENCE class base64Binary (XmlType in the xmlmime namespace):
# base64 text with an optional ``xmime:contentType`` attribute.
INVOICE = Type(
    "INVOICE",
    (
        Member("HEADER", INVOICE_HEADER),
        Member("CONTENT", "base64Binary"),
        Member("INVOICELINE", "anyType", repeated=True),
    ),
    attributes=(Member("TRXID", "long", required=True), Member("UUID", "token"), Member("ID", "token")),
)

# REFERENCE class MarkInvoiceRequestMARK and MarkInvoiceRequest : REQUEST.
MARK = Type(
    "MarkInvoiceRequestMARK",
    (Member("INVOICE", INVOICE, repeated=True),),
    attributes=(_enum("value", "MarkInvoiceRequestMARKValue"),),
)
MARK_INVOICE_REQUEST = Type("MarkInvoiceRequest", (_HEADER, Member("MARK", MARK)))

# REFERENCE class REQUEST_RETURNType, the first member of most answers.
REQUEST_RETURN = Type(
    "REQUEST_RETURNType",
    (
        Member("INTL_TXN_ID", "long", required=True),
        Member("CLIENT_TXN_ID", "token"),
        Member("RETURN_CODE", "int", required=True),
        Member("WARNINGS", repeated=True),
    ),
)
_RETURN = Member("REQUEST_RETURN", REQUEST_RETURN)
# REFERENCE classes LoginResponse, LogoutResponse, MarkInvoiceResponse.
LOGIN_RESPONSE = Type("LoginResponse", (_RETURN, Member("SESSION_ID", "token")))
LOGOUT_RESPONSE = Type("LogoutResponse", (_RETURN,))
MARK_INVOICE_RESPONSE = Type("MarkInvoiceResponse", (_RETURN,))
# REFERENCE class EDM_GetInvoiceResponse: the body part ``GetInvoiceResponse`` is an ``INVOICE[]`` with
# ``XmlArrayItem(Form=Unqualified)``: only INVOICE items, no REQUEST_RETURN.
GET_INVOICE_RESPONSE = Type("GetInvoiceResponse", (Member("INVOICE", INVOICE, repeated=True),))

# REFERENCE class REQUEST_ERRORType, the detail of every fault. The detail element's name is not in
# REFERENCE; XmlSerializer names a class without XmlRoot after the class, so ``REQUEST_ERRORType`` in
# the contract namespace [I].
REQUEST_ERROR = Type(
    "REQUEST_ERRORType",
    (
        Member("INTL_TXN_ID", "long", required=True),
        Member("CLIENT_TXN_ID", "token"),
        Member("ERROR_CODE", "int", required=True),
        Member("ERROR_SHORT_DES"),
        Member("ERROR_LONG_DES"),
        Member("STACKTRACE"),
        Member("ERROR_ELEMENT_INDEX", "int"),
    ),
)


@dataclass(frozen=True)
class Operation:
    """One ``OperationContract``: its name, SOAPAction (= request element), request and answer types."""

    name: str
    request: Type
    response: Type

    @property
    def action(self) -> str:
        return self.request.name


# The operations the simulator serves (REFERENCE interface EFaturaEDMPort lists ~30; the collector needs
# Login, GetInvoice and Logout; MarkInvoice is served because it changes what READ_INCLUDED=false lists).
OPERATIONS: dict[str, Operation] = {
    op.action: op
    for op in (
        Operation("Login", LOGIN_REQUEST, LOGIN_RESPONSE),
        Operation("Logout", LOGOUT_REQUEST, LOGOUT_RESPONSE),
        Operation("GetInvoice", GET_INVOICE_REQUEST, GET_INVOICE_RESPONSE),
        Operation("MarkInvoice", MARK_INVOICE_REQUEST, MARK_INVOICE_RESPONSE),
    )
}
