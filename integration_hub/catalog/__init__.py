"""The integration catalog: system-wide definitions and what this deployment offers.

Knows nothing of Dagster, of the store or of connectors: a pure registry that other layers read.
"""

from __future__ import annotations

from dataclasses import dataclass

from integration_hub.catalog.definitions import DEFINITIONS
from integration_hub.catalog.model import (
    Availability,
    ConnectionStyle,
    FieldError,
    FieldType,
    IntegrationDefinition,
    SettingField,
)
from integration_hub.settings import HubSettings

_BY_ID = {definition.id: definition for definition in DEFINITIONS}
if len(_BY_ID) != len(DEFINITIONS):  # pragma: no cover - guards the registry at import time
    raise RuntimeError("duplicate integration ids in the catalog")


class UnknownIntegrationError(KeyError):
    def __str__(self) -> str:
        known = ", ".join(sorted(_BY_ID))
        return f"unknown integration '{self.args[0]}' (known: {known})"


def get_definition(integration_id: str) -> IntegrationDefinition:
    try:
        return _BY_ID[integration_id]
    except KeyError:
        raise UnknownIntegrationError(integration_id) from None


def all_definitions() -> tuple[IntegrationDefinition, ...]:
    return DEFINITIONS


@dataclass(frozen=True)
class CatalogEntry:
    definition: IntegrationDefinition
    availability: Availability


def catalog_for(settings: HubSettings) -> list[CatalogEntry]:
    """Every definition with its availability in this deployment."""
    return [CatalogEntry(d, d.is_available(settings)) for d in DEFINITIONS]


__all__ = [
    "Availability",
    "CatalogEntry",
    "ConnectionStyle",
    "FieldError",
    "FieldType",
    "IntegrationDefinition",
    "SettingField",
    "UnknownIntegrationError",
    "all_definitions",
    "catalog_for",
    "get_definition",
]
