"""Uyumsoft's published ``Integration`` contract, read at start-up from the real WSDL and XSDs.

Source: ``shared/efatura-contracts/uyumsoft/`` (``Integration.wsdl``, ``Integration.xsd`` …
``Integration8.xsd``, ``Reference.svcmap``), the files Visual Studio downloaded from
``https://efatura-test.uyumsoft.com.tr/Services/Integration?wsdl`` (recorded in
gencer1/Uyumsoft-Fatura-Taslak-Kaydetme-C-@dd89bab0c54a277f41dee86c8355d4177389dedc:
``UyumsoftApiTest/Connected Services/Uyumsoft1/``). Nothing here is typed in by hand: the namespace,
the operations, their SOAPActions and body elements, the security policy and every element's shape come
from those files, so the simulator cannot drift from the contract towards a connector.

Loading notes (``shared/efatura-contracts/README.md``): each ``schemaLocation`` URL is mapped to its local
file through ``Reference.svcmap``; the WCF-generated xmldsig schema breaks unique particle attribution,
so the schema is *built* with ``validation="lax"`` and instances are then validated strictly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import xmlschema
from lxml import etree

from integration_hub.simulators.contracts import contract_path

CONTRACT_DIR = ("efatura-contracts", "uyumsoft")
WSDL_FILE = "Integration.wsdl"
SVCMAP_FILE = "Reference.svcmap"
# WSDL 1.1 / its SOAP 1.1 binding / WS-Policy 1.2 / WS-SecurityPolicy 1.1: the vocabularies the WSDL uses.
WSDL_NS = "http://schemas.xmlsoap.org/wsdl/"
WSDL_SOAP_NS = "http://schemas.xmlsoap.org/wsdl/soap/"
SECURITY_POLICY_NS = "http://schemas.xmlsoap.org/ws/2005/07/securitypolicy"
SVCMAP_NS = "urn:schemas-microsoft-com:xml-wcfservicemap"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


@dataclass(frozen=True)
class Operation:
    """One ``wsdl:operation`` of the binding: its SOAPAction and the body element it takes and answers."""

    name: str
    soap_action: str
    input_element: str  # local name in the target namespace (document/literal, element parts)
    output_element: str


@dataclass(frozen=True)
class Contract:
    """What the WSDL and XSDs say, in the form the simulator dispatches and validates with."""

    directory: Path
    namespace: str
    operations: dict[str, Operation]  # by name
    by_action: dict[str, Operation]
    schema_files: dict[str, str]  # ``xsd0``… -> local file name (from the svcmap)
    service_address: str  # the published endpoint (rewritten to the simulator's when served)
    requires_timestamp: bool  # sp:IncludeTimestamp in the binding's policy
    schema: xmlschema.XMLSchema

    def errors(self, element: etree._Element) -> list[str]:
        """Strict validation of one body element (request or answer): one line per error, ``[]`` if valid."""
        return [_one_line(error) for error in self.schema.iter_errors(element)]

    def document(self, name: str, address: str) -> bytes:
        """A metadata file as the service publishes it (``?wsdl``, ``?xsd=xsd0``…), with the published host
        replaced by ``address`` as a WCF host answers with its own base address."""
        file = WSDL_FILE if name == "wsdl" else self.schema_files[name]
        return (self.directory / file).read_bytes().replace(self.service_address.encode(), address.encode())


def _one_line(error: xmlschema.XMLSchemaValidationError) -> str:
    path = error.path or ""
    return " ".join(f"{path}: {error.reason or error.message}".split())


def _svcmap(directory: Path) -> dict[str, str]:
    """``schemaLocation`` URL -> local file, from ``Reference.svcmap``'s ``MetadataFile`` entries."""
    root = etree.parse(str(directory / SVCMAP_FILE), _PARSER).getroot()
    return {
        entry.get("SourceUrl"): entry.get("FileName")
        for entry in root.iter(f"{{{SVCMAP_NS}}}MetadataFile")
        if entry.get("MetadataType") == "Schema"
    }


def _operations(wsdl: etree._Element, namespace: str) -> dict[str, Operation]:
    """Binding operations (SOAPAction) joined with the portType's messages (their element parts)."""
    w = f"{{{WSDL_NS}}}"
    parts = {
        message.get("name"): message.find(f"{w}part").get("element").partition(":")[2]
        for message in wsdl.iterfind(f"{w}message")
    }
    messages = {
        op.get("name"): (
            parts[op.find(f"{w}input").get("message").partition(":")[2]],
            parts[op.find(f"{w}output").get("message").partition(":")[2]],
        )
        for op in wsdl.iterfind(f"{w}portType/{w}operation")
    }
    operations = {}
    for op in wsdl.iterfind(f"{w}binding/{w}operation"):
        name = op.get("name")
        action = op.find(f"{{{WSDL_SOAP_NS}}}operation").get("soapAction")
        operations[name] = Operation(name, action, *messages[name])
    return operations


@functools.cache
def load_contract() -> Contract:
    """The contract, built once per process (the XSDs take about a second to compile)."""
    directory = contract_path(*CONTRACT_DIR)
    wsdl = etree.parse(str(directory / WSDL_FILE), _PARSER).getroot()
    namespace = wsdl.get("targetNamespace")
    locations = _svcmap(directory)
    schema_files = {url.rpartition("=")[2]: file for url, file in locations.items()}
    entry = next(
        directory / file
        for url, file in locations.items()
        if etree.parse(str(directory / file), _PARSER).getroot().get("targetNamespace") == namespace
    )
    schema = xmlschema.XMLSchema(
        str(entry),
        validation="lax",
        uri_mapper=lambda uri: str(directory / locations[uri]) if uri in locations else uri,
    )
    operations = _operations(wsdl, namespace)
    address = wsdl.find(f"{{{WSDL_NS}}}service/{{{WSDL_NS}}}port/{{{WSDL_SOAP_NS}}}address").get("location")
    return Contract(
        directory=directory,
        namespace=namespace,
        operations=operations,
        by_action={op.soap_action: op for op in operations.values()},
        schema_files=schema_files,
        service_address=address,
        requires_timestamp=wsdl.find(f".//{{{SECURITY_POLICY_NS}}}IncludeTimestamp") is not None,
        schema=schema,
    )
