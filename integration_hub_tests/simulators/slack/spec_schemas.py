"""Response schemas of Slack's Web API spec, for checking what the simulator serves.

Transcribed from
``slackapi/slack-api-specs@bc08db49625630e3585bf2f1322128ea04f2a7f3:web-api/slack_web_openapi_v2.json``
(the spec is not in ``shared/``): ``paths./<method>.<verb>.responses.{200,default}.schema`` with their
``$ref``s resolved. Top-level schemas, required lists, error enums and id patterns are the spec's, whole.
``objs_message`` and ``objs_conversation`` (first variant, the channel object) are reduced to the properties
the simulator serves, keeping the spec's ``required`` and ``additionalProperties: false``: a property the
simulator starts serving must be added here from the spec, or the check fails.
"""

from __future__ import annotations

from typing import Any

OK_TRUE = {"enum": [True], "type": "boolean"}  # defs_ok_true
OK_FALSE = {"enum": [False], "type": "boolean"}  # defs_ok_false
CHANNEL = {"pattern": r"^[CGD][A-Z0-9]{8,}$", "type": "string"}  # defs_channel
TS = {"pattern": r"^\d{10}\.\d{6}$", "type": "string"}  # defs_ts
TEAM = {"pattern": r"^[T][A-Z0-9]{2,}$", "type": "string"}  # defs_team
WORKSPACE = {"pattern": r"^[TE][A-Z0-9]{8,}$", "type": "string"}  # defs_workspace_id
USER_ID = {"pattern": r"^[UW][A-Z0-9]{2,}$", "type": "string"}  # defs_user_id
BOT_ID = {"pattern": r"^B[A-Z0-9]{8,}$", "type": "string"}  # defs_bot_id
BLOCKS = {  # definitions.blocks ("a very loose definition")
    "items": {"additionalProperties": True, "properties": {"type": {"type": "string"}}, "required": ["type"]},
    "type": "array",
}
TOPIC_CREATOR = {"pattern": r"^[UW][A-Z0-9]{8,}$|^$", "type": "string"}  # defs_topic_purpose_creator
TOPIC_PURPOSE = {
    "additionalProperties": False,
    "properties": {"creator": TOPIC_CREATOR, "last_set": {"type": "integer"}, "value": {"type": "string"}},
    "required": ["value", "creator", "last_set"],
    "type": "object",
}

MESSAGE = {  # objs_message, reduced
    "additionalProperties": False,
    "properties": {
        "blocks": BLOCKS,
        "bot_id": BOT_ID,
        "team": WORKSPACE,
        "text": {"type": "string"},
        "ts": TS,
        "type": {"type": "string"},
        "user": USER_ID,
    },
    "required": ["text", "type", "ts"],
    "type": "object",
}

CONVERSATION = {  # objs_conversation.items[0], reduced
    "additionalProperties": False,
    "properties": {
        "created": {"type": "integer"},
        "creator": USER_ID,
        "id": CHANNEL,
        "is_archived": {"type": "boolean"},
        "is_channel": {"type": "boolean"},
        "is_general": {"type": "boolean"},
        "is_group": {"type": "boolean"},
        "is_im": {"type": "boolean"},
        "is_member": {"type": "boolean"},
        "is_mpim": {"enum": [False], "type": "boolean"},
        "is_org_shared": {"type": "boolean"},
        "is_private": {"type": "boolean"},
        "is_shared": {"type": "boolean"},
        "name": {"type": "string"},
        "name_normalized": {"type": "string"},
        "purpose": TOPIC_PURPOSE,
        "topic": TOPIC_PURPOSE,
    },
    "required": [
        "id", "name", "created", "creator", "is_archived", "is_channel", "is_general", "is_mpim", "is_group",
        "is_org_shared", "is_im", "is_shared", "is_private", "name_normalized", "topic", "purpose",
    ],
    "type": "object",
}  # fmt: skip


def _error(codes: list[str], **extra: Any) -> dict[str, Any]:
    return {
        "additionalProperties": False,
        "properties": {"callstack": {"type": "string"}, "error": {"enum": codes, "type": "string"}, "ok": OK_FALSE}
        | extra,
        "required": ["ok", "error"],
        "type": "object",
    }


SUCCESS: dict[str, dict[str, Any]] = {
    "auth.test": {
        "additionalProperties": False,
        "properties": {
            "bot_id": BOT_ID,
            "is_enterprise_install": {"type": "boolean"},
            "ok": OK_TRUE,
            "team": {"type": "string"},
            "team_id": TEAM,
            "url": {"type": "string"},
            "user": {"type": "string"},
            "user_id": USER_ID,
        },
        "required": ["ok", "url", "team", "user", "team_id", "user_id"],
        "type": "object",
    },
    "chat.postMessage": {
        "additionalProperties": False,
        "properties": {"channel": CHANNEL, "message": MESSAGE, "ok": OK_TRUE, "ts": TS},
        "required": ["ok", "channel", "ts", "message"],
        "type": "object",
    },
    "conversations.info": {
        "additionalProperties": False,
        "properties": {"channel": CONVERSATION, "ok": OK_TRUE},
        "required": ["ok", "channel"],
        "type": "object",
    },
}

ERROR: dict[str, dict[str, Any]] = {
    "auth.test": _error(
        [
            "not_authed", "invalid_auth", "token_revoked", "account_inactive", "invalid_arg_name",
            "invalid_array_arg", "invalid_charset", "invalid_form_data", "invalid_post_type", "missing_post_type",
            "invalid_json", "json_not_object", "request_timeout", "upgrade_required",
        ]
    ),
    "chat.postMessage": _error(
        [
            "channel_not_found", "not_in_channel", "is_archived", "msg_too_long", "no_text", "too_many_attachments",
            "rate_limited", "not_authed", "invalid_auth", "account_inactive", "invalid_arg_name", "invalid_array_arg",
            "invalid_charset", "invalid_form_data", "invalid_post_type", "missing_post_type",
        ]
    ),
    "conversations.info": _error(
        [
            "missing_scope", "channel_not_found", "team_added_to_org", "not_authed", "invalid_auth",
            "account_inactive", "invalid_arg_name", "invalid_array_arg", "invalid_charset", "invalid_form_data",
            "invalid_post_type", "missing_post_type", "invalid_json", "json_not_object", "request_timeout",
            "upgrade_required",
        ],
        needed={"type": "string"},
        provided={"type": "string"},
    ),
}  # fmt: skip
