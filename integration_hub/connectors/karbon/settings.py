"""Karbon API v3 constants: base URL, page sizes, rate limit and the endpoints each pillar reads.

Page sizes are the per-endpoint maxima of the spec (karbon.md §5): asking for the maximum is what
keeps a window to the fewest requests. Only ``IndividualTimeEntries`` allows 1000 per page.
"""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.karbonhq.com"
DEFAULT_REQUESTS_PER_MINUTE = 120  # Karbon's recommendation per API application and account
PAGE_SIZE = 100
TIME_ENTRY_PAGE_SIZE = 1000
TIMEOUT_SECONDS = 60.0

PILLARS: tuple[str, ...] = ("tenant", "work", "contacts", "time", "ar", "content_items", "accounting")

# Reference data snapshotted by the tenant pillar: (entity set, record type, key field).
TENANT_LISTS: tuple[tuple[str, str, str], ...] = (
    ("Users", "user", "Id"),
    ("Roles", "role", "Key"),
    ("Teams", "team", "TeamKey"),
    ("CustomFields", "custom_field", "Key"),
)
TENANT_PAGE_SIZES = {"Users": 100, "Roles": 200, "Teams": 200}

# Clients ordered by last change, newest first: (entity set, record type, key field, FileList entity type).
CHANGE_ORDERED_CLIENTS: tuple[tuple[str, str, str, str], ...] = (
    ("Contacts", "contact", "ContactKey", "Contact"),
    ("Organizations", "organization", "OrganizationKey", "Organization"),
)
