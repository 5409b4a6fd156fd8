"""The Starlette app of the İşNet simulator: ``InvoiceService.svc`` as a WCF basicHttpBinding endpoint.

What the WCF dispatcher does before İşNet's code runs, reproduced in this order: the ``SOAPAction``
header picks the operation (an action no operation has is an ``a:ActionNotSupported`` fault), the
body must be the operation's wrapper element in ``http://tempuri.org/`` with its ``request``
parameter, and the parameter is read by DataContractSerializer (:mod:`integration_hub.simulators.efatura.binding`
with the model namespace and :attr:`~integration_hub.simulators.efatura.binding.Order.SKIP`): each incoming
element is matched by local name *and* namespace against the members at or after the current position, so
an unknown name, another namespace (an unqualified element included) or a member that came too late is
skipped silently and keeps its default (``null``): ``MinInvoiceDate`` sent before ``MaxInvoiceDate`` loses
the upper bound without any error. Only a value the serializer cannot convert (a bad enum, date, number or
boolean) is an ``a:DeserializationFailed`` fault; İşNet's WSDL marks no member ``IsRequired``.
Answers are ``<Op>Response/<Op>Result`` with the members in the model namespace, prefixed ``a:`` as
NETTE:src/tools/go-live.tool.ts reads them (``<a:Result>``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from integration_hub.simulators.efatura.binding import SCALARS, InvalidValue, Member, bind, write
from integration_hub.simulators.efatura.soap import (
    XSI_NS,
    SoapClientError,
    q,
    read_soap_request,
    soap_response,
    wcf_action_not_supported,
    wcf_deserialization_failed,
)
from integration_hub.simulators.isnet import contract as c
from integration_hub.simulators.isnet.calls import SimCall
from integration_hub.simulators.isnet.service import Failed, InvoiceService, Members

if TYPE_CHECKING:
    from integration_hub.simulators.isnet.simulator import IsnetSimulator


def _result(operation: str, members: Members) -> etree._Element:
    response = etree.Element(q(c.SERVICE_NAMESPACE, f"{operation}Response"), nsmap={None: c.SERVICE_NAMESPACE})
    result = etree.SubElement(
        response, q(c.SERVICE_NAMESPACE, f"{operation}Result"), nsmap={"a": c.MODEL_NAMESPACE, "i": XSI_NS}
    )
    write(result, members, namespace=c.MODEL_NAMESPACE, nil=True)
    return response


def _not_convertible(member: Member, value: str) -> str:
    """DataContractSerializer's text for a value it cannot convert to ``member``'s type."""
    if member.choices:
        return f"Invalid enum value '{value}' cannot be deserialized into type '{member.name}'."
    return f"The value '{value}' cannot be parsed as the type '{SCALARS[str(member.type)].clr}'."


def _bad_body(operation: str, body: etree._Element) -> Response:
    found = etree.QName(body)
    return wcf_deserialization_failed(
        operation,
        c.SERVICE_NAMESPACE,
        f"OperationFormatter encountered an invalid Message body. Expected to find node type 'Element' with name "
        f"'{operation}' and namespace '{c.SERVICE_NAMESPACE}'. Found node type 'Element' with name "
        f"'{found.localname}' and namespace '{found.namespace or ''}'",
    )


def build_app(sim: IsnetSimulator) -> Starlette:
    service = InvoiceService(sim)

    async def endpoint(request: Request) -> Response:
        try:
            soap = await read_soap_request(request)
        except SoapClientError:
            # WCF's message encoder rejects an unreadable message before any dispatch: a bare 400.
            sim.record(SimCall("?", None, 400, "BadRequest"))
            return PlainTextResponse("Bad Request", status_code=400)
        action = soap.soap_action
        operation = action.removeprefix(c.ACTION_PREFIX) if action.startswith(c.ACTION_PREFIX) else ""
        if operation not in service.handlers:
            sim.record(SimCall(operation or action, None, 500, "ActionNotSupported"))
            return wcf_action_not_supported(action)
        if (status := sim.injected_failure()) is not None:
            sim.record(SimCall(operation, None, status))
            return PlainTextResponse("Service Unavailable", status_code=status)
        body = soap.operation_element
        if body.tag != q(c.SERVICE_NAMESPACE, operation):
            sim.record(SimCall(operation, None, 500, "DeserializationFailed"))
            return _bad_body(operation, body)
        # The ``request`` parameter; WCF leaves a missing (or wrongly-namespaced) one null.
        parameter = body.find(q(c.SERVICE_NAMESPACE, "request"))
        try:
            parsed = bind(parameter, service.contracts[operation]) if parameter is not None else None
        except InvalidValue as exc:
            sim.record(SimCall(operation, None, 500, "DeserializationFailed"))
            return wcf_deserialization_failed("request", c.SERVICE_NAMESPACE, _not_convertible(exc.member, exc.value))
        values = parsed.typed() if parsed is not None else {}
        vkn = values.get("CompanyTaxCode")
        client_ip = request.client.host if request.client else ""
        try:
            slug = service.identify(values, client_ip)
            members = service.answer(service.handlers[operation](slug, values))
            outcome = "Success"
        except Failed as failure:
            members = service.answer(str(failure))
            outcome = "Failed"
        skipped = parsed.skipped if parsed is not None else []
        sim.record(SimCall(operation, vkn, 200, outcome, values, skipped))
        return soap_response(_result(operation, members))

    return Starlette(routes=[Route(c.SERVICE_PATH, endpoint, methods=["POST"])])
