"""The table of list endpoints the simulator serves, with each one's OData whitelist and page size.

Taken from the spec's per-path ``$filter``/``$orderby`` descriptions and karbon.md §5: which fields
filter with which operators, which order, the page maximum (100; 200 for Roles and Teams; 1000 for
IndividualTimeEntries) and whether ``@odata.count`` is always present or opt-in (``$count=true``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from integration_hub.simulators.karbon.data import Firm
from integration_hub.simulators.karbon.odata import Whitelist

EQ = frozenset({"eq"})
EQ_CONTAINS = frozenset({"eq", "contains"})
EQ_STARTSWITH = frozenset({"eq", "startswith"})
RANGE = frozenset({"eq", "gt", "ge", "lt", "le", "day", "month", "year"})


@dataclass(frozen=True)
class ListEndpoint:
    entity_set: str
    key: str
    rows: Callable[[Firm], list[dict[str, Any]]]
    rules: Whitelist
    page_max: int = 100
    count_opt_in: bool = False
    default_order: tuple[tuple[str, bool], ...] = ()
    odata_type: str | None = None  # @odata.context suffix after the set name
    hidden: frozenset[str] = field(default_factory=frozenset)  # fields only single GETs return
    filterable: bool = True
    orderable: bool = True


def _rules(entity: str, filters: dict[str, frozenset[str]], orderby: tuple[str, ...] = (), dates: tuple[str, ...] = ()):
    return Whitelist(f"KarbonService.{entity}", filters, frozenset(orderby), frozenset(dates))


LIST_ENDPOINTS: dict[str, ListEndpoint] = {
    "Users": ListEndpoint(
        "Users",
        "Id",
        lambda firm: firm.users,
        _rules("UserSummaryDTO", {"Name": EQ_CONTAINS, "EmailAddress": EQ_CONTAINS}),
        orderable=False,
    ),
    "Roles": ListEndpoint(
        "Roles",
        "Key",
        lambda firm: firm.roles,
        _rules("RoleDTO", {"Name": EQ}),
        page_max=200,  # /v3/Roles GET: "Returns a maximum of 200 Roles per page"; sorted by Name (QREF §4)
        default_order=(("Name", False),),
        orderable=False,
    ),
    "Teams": ListEndpoint(
        "Teams", "TeamKey", lambda firm: firm.teams, _rules("TeamDTO", {"Name": EQ}), page_max=200, orderable=False
    ),
    "CustomFields": ListEndpoint(
        "CustomFields",
        "Key",
        lambda firm: firm.custom_fields,
        _rules("CustomFieldDefinitionDTO", {}),
        page_max=1000,  # the spec declares no $top/$skip here (one page): the simulator's own bound
        filterable=False,
        orderable=False,
    ),
    "WorkTemplates": ListEndpoint(
        "WorkTemplates",
        "WorkTemplateKey",
        lambda firm: firm.work_templates,
        _rules(
            "WorkTemplateSummaryDTO",
            {
                "Title": EQ_STARTSWITH,
                "WorkTypeKey": EQ_STARTSWITH,
                "HasScheduledClientTaskGroups": EQ,
                "DraftHasChanges": EQ,
                "PublishedDate": EQ,
                "NumberOfWorkItemsCreated": EQ,
                "DateLastWorkItemCreated": EQ,
                "DateModified": EQ,
            },
            ("WorkTypeKey", "PublishedDate", "NumberOfWorkItemsCreated", "DateLastWorkItemCreated", "DateModified"),
            ("PublishedDate", "DateLastWorkItemCreated", "DateModified"),
        ),
        default_order=(("WorkTypeKey", False),),
    ),
    "Contacts": ListEndpoint(
        "Contacts",
        "ContactKey",
        lambda firm: firm.contacts,
        _rules(
            "ContactSummaryDTO",
            {
                "FullName": EQ_CONTAINS,
                "EmailAddress": EQ_CONTAINS,
                "PhoneNumber": EQ_CONTAINS,
                "ContactType": EQ_CONTAINS,
                "ExternalKey": EQ,
            },
            ("FullName", "LastModifiedDateTime"),
            ("LastModifiedDateTime",),
        ),
        odata_type="KarbonService.ContactSummaryDTO",
        hidden=frozenset({"FirstName", "LastName"}),
    ),
    "Organizations": ListEndpoint(
        "Organizations",
        "OrganizationKey",
        lambda firm: firm.organizations,
        _rules(
            "OrganizationSummaryDTO",
            {"FullName": EQ, "EmailAddress": EQ, "ContactType": EQ_CONTAINS, "ExternalKey": EQ},
            ("FullName", "LastModifiedDateTime"),
            ("LastModifiedDateTime",),
        ),
        odata_type="KarbonService.OrganizationSummaryDTO",
    ),
    "ClientGroups": ListEndpoint(
        "ClientGroups",
        "ClientGroupKey",
        lambda firm: firm.client_groups,
        _rules("ClientGroupSummaryDTO", {"FullName": EQ}, ("FullName",), ("LastModifiedDateTime",)),
        odata_type="KarbonService.ClientGroupSummaryDTO",
    ),
    "WorkItems": ListEndpoint(
        "WorkItems",
        "WorkItemKey",
        lambda firm: firm.work_items,
        _rules(
            "WorkItemSummaryDTO",
            {
                "AssigneeEmailAddress": EQ_CONTAINS,
                "Title": EQ_CONTAINS,
                "WorkStatus": EQ_CONTAINS,
                "WorkType": EQ_CONTAINS,
                "ClientKey": EQ,
                "PrimaryStatus": EQ,
                "WorkScheduleKey": EQ,
                "WorkTemplateKey": EQ,
                "StartDate": frozenset({"ge", "le"}),
            },
            ("StartDate", "DeadlineDate"),
            ("StartDate", "DeadlineDate"),
        ),
        odata_type="KarbonService.WorkItemSummaryDTO",
    ),
    "IndividualTimeEntries": ListEndpoint(
        "IndividualTimeEntries",
        "IndividualTimeEntryKey",
        lambda firm: firm.time_entries,
        _rules(
            "IndividualTimeEntryDTO",
            {
                "Date": RANGE,
                **{
                    name: EQ
                    for name in (
                        "TimesheetKey",
                        "EntityKey",
                        "WorkItemKey",
                        "ClientKey",
                        "UserKey",
                        "RoleName",
                        "TaskTypeName",
                    )
                },
            },
            ("Date",),
            ("Date",),
        ),
        page_max=1000,  # KarbonAPI.json#/components/parameters/TopRecordsLimitedTo1000
        count_opt_in=True,  # GetIndividualTimeEntries: @odata.count "Only present when $count=true"
        default_order=(("Date", False),),
    ),
    "Invoices": ListEndpoint(
        "Invoices",
        "InvoiceKey",
        lambda firm: firm.invoices,
        _rules(
            "InvoiceDTO",
            {"InvoiceStatus": EQ},
            ("InvoiceDate", "CreatedAt", "UpdatedAt", "InvoiceNumber"),
            ("InvoiceDate", "UpdatedAt", "CreatedAt"),
        ),
    ),
    "Payments": ListEndpoint(
        "Payments",
        "PaymentKey",
        lambda firm: firm.payments,
        _rules("PaymentDTO", {}),
        filterable=False,
        orderable=False,
    ),
}
