"""The control plane's application services: the rules for connecting, editing, pausing, resuming,
disconnecting and clearing credentials, composed from the catalog, the store and the connectors.
"""

from integration_hub.service.connections import ConnectionService
from integration_hub.service.errors import (
    ConflictError,
    HubError,
    NotFoundError,
    StateError,
    TestFailedError,
    UnavailableError,
    ValidationError,
)

__all__ = [
    "ConflictError",
    "ConnectionService",
    "HubError",
    "NotFoundError",
    "StateError",
    "TestFailedError",
    "UnavailableError",
    "ValidationError",
]
