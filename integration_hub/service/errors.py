"""Errors the control plane reports to people: one line each, never a secret.

``exit_code`` is what the CLI returns: 2 for usage and validation problems (fix the input), 1 for an
operation that was valid but failed (the provider rejected the test, the database is unreachable).
"""

from __future__ import annotations

from collections.abc import Sequence

from integration_hub.catalog import FieldError


class HubError(Exception):
    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class ValidationError(HubError):
    """The input is wrong; nothing was changed."""

    exit_code = 2

    def __init__(self, message: str, field_errors: Sequence[FieldError] = ()) -> None:
        super().__init__(message)
        self.field_errors = list(field_errors)

    @classmethod
    def from_fields(cls, prefix: str, errors: Sequence[FieldError]) -> ValidationError:
        return cls(f"{prefix}: " + "; ".join(str(e) for e in errors), errors)


class NotFoundError(HubError):
    exit_code = 2


class StateError(HubError):
    """The action does not fit the connection's current state (pause a disconnected one, ...)."""

    exit_code = 2


class UnavailableError(HubError):
    """The integration exists but this deployment does not offer it."""

    exit_code = 2


class TestFailedError(HubError):
    """Test Connection failed, so the change was refused; nothing was changed."""

    __test__ = False  # not a pytest test class
    exit_code = 1


class ConflictError(HubError):
    """Another command changed the same connection at the same moment; this one changed nothing."""
