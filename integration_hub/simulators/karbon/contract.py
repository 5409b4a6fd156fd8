"""Karbon's published OpenAPI document as the simulator's gate: requests and answers checked against it.

The contract is ``KarbonAPI.json`` (karbonhq/karbon-api-reference@2644923, kept read-only in
``shared/karbon/``, located with :func:`~integration_hub.simulators.contracts.contract_path`). It is
loaded once, with openapi-core imported lazily (a test dependency), so a connector request that breaks
the contract (an operation the spec does not have, a query parameter it does not declare for that
operation, a parameter value outside its schema, a missing ``Authorization: Bearer``/``AccessKey``
pair) is found here and not by re-reading the connector's own constants.

The document contradicts itself in a few places; each is corrected in :func:`documented_contradictions`
with the spec's own evidence, and nothing else is relaxed (a test compares the corrected document with
the published one).
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from integration_hub.simulators.contracts import contract_path

SPEC_FILE = ("karbon", "KarbonAPI.json")
SERVER = "https://api.karbonhq.com"  # KarbonAPI.json#/servers/0/url, the only server the spec lists
DOCUMENT_URI = "urn:karbon-api-v3"  # the document's base URI for the response schemas' internal $refs

# Pointers (RFC 6901) of every value :func:`documented_contradictions` changes, for the test that proves
# nothing else is relaxed.
CORRECTED_POINTERS: tuple[str, ...] = (
    "/components/parameters/SkipRecords/schema/maximum",
    "/paths/~1v3~1Contacts/get/parameters/1/schema/default",
    "/paths/~1v3~1Organizations/get/parameters/1/schema/default",
    "/paths/~1v3~1Timesheets/get/parameters/1/schema/default",
    "/paths/~1v3~1WorkItems/get/parameters/1/schema/default",
    "/paths/~1v3~1Invoices/get/responses/200/content/application~1json/schema",
    "/paths/~1v3~1Payments/get/responses/200/content/application~1json/schema",
    "/components/schemas/WorkItem/properties/PrimaryStatus/enum",
    "/components/schemas/BillingInvoiceLineItems/required",
    "/components/schemas/BillingInvoicePayments/required",
)


@dataclass(frozen=True)
class Violation:
    """One way a request or an answer breaks the contract; ``kind`` says which rule."""

    method: str
    path: str
    kind: str  # security | path | method | undeclared | parameter | body | response
    message: str

    def __str__(self) -> str:
        return f"{self.method} {self.path}: {self.kind}: {self.message}"


def documented_contradictions(document: dict[str, Any]) -> dict[str, Any]:
    """The published document with its self-contradictions resolved the way its own evidence points.

    * ``$skip`` ``maximum: 100`` (``#/components/parameters/SkipRecords``): the spec's own next links go
      past it, ``GetRoles``/``GetTeams`` ``@odata.nextLink`` example
      ``https://api.karbonhq.com/v3/Roles?$skip=200&$top=200``, and counts of 323-651 rows are shown at
      100 a page; karbon.md §3.2 traces the 100 to commit b7c7c5e swapping the ``$top``/``$skip`` names.
      The maximum is dropped (it is not moved to ``$top``: Roles/Teams page by 200 with the same parameter).
    * Four ``$orderby`` parameters name a ``default`` outside their own ``enum``: Contacts
      ``"ClientGroupKey"`` (enum ``FullName``, ``FullName desc``, ``LastModifiedDateTime``,
      ``LastModifiedDateTime desc``; karbon.md §5 calls it a copy-paste slip), Organizations
      ``"OrganizationKey"``, WorkItems ``"WorkItemKey"`` (enum ``StartDate``, ``DeadlineDate`` [desc]) and
      Timesheets ``"TimesheetKey"``. The default describes the server's own order by key, not a value a
      client may send; a validator applying it would refuse every such request without ``$orderby``, so
      these defaults are dropped.
    * ``/v3/Invoices`` and ``/v3/Payments`` name their array ``values`` in the 200 schema while their own
      examples (``"value": [...]``), the guide and every other list use ``value``: read as ``value``.
    * ``WorkItem.PrimaryStatus`` enumerates the no-space form (``InProgress``) while list answers carry the
      spaced form (``In Progress``, ``Ready To Start``) that ``$filter`` needs (karbon.md §3.3, QREF §5):
      the spaced values are added.
    * ``GET /v3/Invoices/{InvoiceKey}`` answers ``BillingInvoiceWithPayment``, whose parts
      ``BillingInvoiceLineItems`` and ``BillingInvoicePayments`` require ``LineItems`` and ``Payments``,
      while the operation's own ``$expand`` (``#/components/parameters/InvoiceExpandParams``) offers them
      separately: ``"Payments"`` is summarised "Include the payments made on an invoice", ``"LineItems,Data"``
      "Include the line items and invoice data" (no payments). Each is required only when expanded, so the
      two ``required`` lists are dropped; every other property keeps its schema.
    """
    document = copy.deepcopy(document)
    del document["components"]["parameters"]["SkipRecords"]["schema"]["maximum"]
    for path in ("/v3/Contacts", "/v3/Organizations", "/v3/Timesheets", "/v3/WorkItems"):
        orderby = document["paths"][path]["get"]["parameters"][1]["schema"]
        if orderby["default"] not in orderby["enum"]:
            del orderby["default"]
    for path in ("/v3/Invoices", "/v3/Payments"):
        schema = document["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        schema["properties"]["value"] = schema["properties"].pop("values")
        schema["required"] = ["value" if name == "values" else name for name in schema.get("required", [])]
    statuses = document["components"]["schemas"]["WorkItem"]["properties"]["PrimaryStatus"]["enum"]
    statuses += ["Ready To Start", "In Progress"]
    for name in ("BillingInvoiceLineItems", "BillingInvoicePayments"):
        del document["components"]["schemas"][name]["required"]
    return document


def published_document() -> dict[str, Any]:
    """``KarbonAPI.json`` exactly as published."""
    return json.loads(contract_path(*SPEC_FILE).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class _Request:
    """The request as openapi-core reads it, addressed to the spec's server rather than 127.0.0.1."""

    method: str
    path: str
    parameters: Any
    body: bytes | None
    content_type: str
    host_url: str = SERVER


class Contract:
    """Checks requests and answers against the (corrected) Karbon document."""

    def __init__(self, document: dict[str, Any]) -> None:
        from openapi_core import Config, OpenAPI  # a test dependency: imported only when a contract is used
        from openapi_core.templating.paths.finders import APICallPathFinder

        # The published document fails meta-validation (the Contacts $orderby default outside its enum is one
        # reason), so it is used as published, unchecked.
        self.openapi = OpenAPI.from_dict(document, config=Config(spec_validator_cls=None))
        self._finder = APICallPathFinder(self.openapi.spec)
        self._document = document
        self._validators: dict[str, Any] = {}

    def _request(self, method: str, path: str, query: Any, headers: Any, body: bytes, content_type: str) -> _Request:
        from openapi_core.datatypes import RequestParameters

        parameters = RequestParameters(query=query, header=headers, cookie={})
        return _Request(method.lower(), path, parameters, body or None, content_type)

    def _operation(self, method: str, path: str) -> tuple[str, dict[str, Any], dict[str, Any]] | None:
        """The spec's path template, path item and operation serving ``method path`` (``None``: no such one)."""
        from openapi_core.templating.paths.exceptions import PathError

        try:
            found = self._finder.find(method.lower(), SERVER + path)
        except PathError:
            return None
        template = found.path.parts[-1]
        item = self._document["paths"][template]
        return template, item, item[method.lower()]

    def declared_query(self, method: str, path: str) -> frozenset[str]:
        """Names of the query parameters the operation declares (none when the spec has no such operation)."""
        found = self._operation(method, path)
        if found is None:
            return frozenset()
        _, item, operation = found
        parameters = [*item.get("parameters", []), *operation.get("parameters", [])]
        return frozenset(p["name"] for p in map(self._resolve, parameters) if p["in"] == "query")

    def _resolve(self, parameter: dict[str, Any]) -> dict[str, Any]:
        reference = parameter.get("$ref")
        if reference is None:
            return parameter
        return self._document["components"]["parameters"][reference.rsplit("/", 1)[-1]]

    def check_request(
        self,
        method: str,
        path: str,
        query: Any,
        headers: Any,
        body: bytes = b"",
        content_type: str = "application/json",
    ) -> list[Violation]:
        """Every way the request breaks the contract (empty when it keeps it)."""
        from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
        from openapi_core.validation.request.exceptions import (
            ParameterValidationError,
            RequestBodyValidationError,
            SecurityValidationError,
        )

        def violation(kind: str, message: str) -> Violation:
            return Violation(method.upper(), path, kind, message)

        result = self.openapi.unmarshal_request(self._request(method, path, query, headers, body, content_type))
        found: list[Violation] = []
        for error in result.errors:
            if isinstance(error, PathNotFound):
                return [violation("path", "the spec has no such path")]
            if isinstance(error, OperationNotFound):
                return [violation("method", f"the spec has no {method.upper()} on this path")]
            kind = (
                "security"
                if isinstance(error, SecurityValidationError)
                else "body"
                if isinstance(error, RequestBodyValidationError)
                else "parameter"
                if isinstance(error, ParameterValidationError)
                else "request"
            )
            found.append(violation(kind, _detail(error)))
        declared = self.declared_query(method, path)
        found += [violation("undeclared", name) for name in query if name not in declared]
        return found

    def check_response(self, method: str, path: str, status: int, body: bytes) -> list[Violation]:
        """Every way the answer breaks the operation's documented response (status and body schema).

        An error status the operation does not document (a 429 or an injected 503 where the spec lists
        neither) has no schema to answer to and is not checked; an undocumented success status is a breach.
        Bodies are checked with openapi-core's own OpenAPI 3.1 schema validator (formats included), straight
        on the document: openapi-core's full response pipeline costs seconds per 1000-row page.
        """
        found = self._operation(method, path)
        if found is None:
            return []
        template, _, operation = found
        documented = operation.get("responses", {})
        code = str(status) if str(status) in documented else "default"
        response = documented.get(code)

        def violation(message: str) -> list[Violation]:
            return [Violation(method.upper(), path, "response", f"HTTP {status}: {message}")]

        if response is None:
            return [] if status >= 400 else violation("the operation documents no such status")
        schema = response.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:
            return violation("the spec documents no body for it") if body else []
        try:
            value = json.loads(body)
        except ValueError:
            return violation("the body is not JSON")
        pointer = "/".join(
            ("/paths", template.replace("~", "~0").replace("/", "~1"), method.lower(), "responses", code)
        )
        errors = sorted(self._validator(pointer).iter_errors(value), key=lambda e: list(e.absolute_path))
        return [v for e in errors[:3] for v in violation(f"/{'/'.join(map(str, e.absolute_path))}: {e.message[:300]}")]

    def _validator(self, response_pointer: str) -> Any:
        """openapi-core's OAS 3.1 validator for the JSON body documented at ``response_pointer``, built once."""
        from openapi_schema_validator import OAS31Validator, oas31_format_checker
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT202012

        if response_pointer not in self._validators:
            registry = Registry().with_resource(
                DOCUMENT_URI, Resource.from_contents(self._document, default_specification=DRAFT202012)
            )
            schema = {"$ref": f"{DOCUMENT_URI}#{response_pointer}/content/application~1json/schema"}
            self._validators[response_pointer] = OAS31Validator(
                schema, registry=registry, format_checker=oas31_format_checker
            )
        return self._validators[response_pointer]


def _detail(error: Exception) -> str:
    """openapi-core's finding on one line: the schema errors behind it when there are any (not the value)."""
    cause = error.__cause__
    reasons = [str(getattr(e, "message", e)) for e in getattr(cause, "schema_errors", ())]
    text = f"{type(error).__name__}: {'; '.join(reasons)}" if reasons else str(error)
    return " ".join(text.split())[:500]


@lru_cache(maxsize=1)
def karbon_contract() -> Contract:
    """The contract, loaded once per process."""
    return Contract(documented_contradictions(published_document()))
