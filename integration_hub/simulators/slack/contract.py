"""What the Slack simulator takes from Slack's published Web API contract, and from where.

Slack publishes an OpenAPI 2.0 description of the Web API. It is not in the workspace's ``shared/`` folder, so
the facts the simulator relies on are written down here, each from
``slackapi/slack-api-specs@bc08db49625630e3585bf2f1322128ea04f2a7f3:web-api/slack_web_openapi_v2.json``
(``info.version`` 1.7.0; ``host`` slack.com, ``basePath`` /api): the three methods the hub calls, the HTTP
verb and body types each ``consumes``, their parameters (``required`` where the spec says so), their error
enums and the patterns of the ids they answer with.

A few facts are not in that spec and come from Slack's method and rate-limit documentation (api.slack.com):
they are kept apart in :data:`DOCUMENTED_ONLY` so nobody mistakes them for the spec's. The spec says itself
that "Full Block Kit schemas are still unavailable" (its ``blocks`` definition only requires each block to be
an object with a ``type``); the Block Kit limits in :mod:`.blocks` come from the Block Kit reference.
"""

from __future__ import annotations

from dataclasses import dataclass

SPEC_SOURCE = "slackapi/slack-api-specs@bc08db49625630e3585bf2f1322128ea04f2a7f3:web-api/slack_web_openapi_v2.json"

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"


@dataclass(frozen=True)
class Parameter:
    name: str
    type: str = "string"  # string | boolean (the spec's formData/query types)
    required: bool = False


@dataclass(frozen=True)
class MethodContract:
    """One Web API method as the spec declares it (``paths./<name>``)."""

    name: str
    verb: str  # the operation's HTTP verb in the spec
    consumes: tuple[str, ...]
    scope: str  # the token's required scope, from the ``token`` parameter's description
    parameters: tuple[Parameter, ...]
    errors: frozenset[str]  # the ``default`` response schema's ``error`` enum


# paths./auth.test.get
AUTH_TEST = MethodContract(
    name="auth.test",
    verb="GET",
    consumes=(FORM, JSON),
    scope="none",
    parameters=(),
    errors=frozenset(
        {
            "not_authed", "invalid_auth", "token_revoked", "account_inactive", "invalid_arg_name",
            "invalid_array_arg", "invalid_charset", "invalid_form_data", "invalid_post_type", "missing_post_type",
            "invalid_json", "json_not_object", "request_timeout", "upgrade_required",
        }
    ),
)  # fmt: skip

# paths./chat.postMessage.post
CHAT_POST_MESSAGE = MethodContract(
    name="chat.postMessage",
    verb="POST",
    consumes=(FORM, JSON),
    scope="chat:write",
    parameters=(
        Parameter("as_user"),
        Parameter("attachments"),
        Parameter("blocks"),
        Parameter("channel", required=True),
        Parameter("icon_emoji"),
        Parameter("icon_url"),
        Parameter("link_names", "boolean"),
        Parameter("mrkdwn", "boolean"),
        Parameter("parse"),
        Parameter("reply_broadcast", "boolean"),
        Parameter("text"),
        Parameter("thread_ts"),
        Parameter("unfurl_links", "boolean"),
        Parameter("unfurl_media", "boolean"),
        Parameter("username"),
    ),
    errors=frozenset(
        {
            "channel_not_found", "not_in_channel", "is_archived", "msg_too_long", "no_text", "too_many_attachments",
            "rate_limited", "not_authed", "invalid_auth", "account_inactive", "invalid_arg_name", "invalid_array_arg",
            "invalid_charset", "invalid_form_data", "invalid_post_type", "missing_post_type",
        }
    ),
)  # fmt: skip

# paths./conversations.info.get (the spec's channel parameter is "Conversation ID", not a name)
CONVERSATIONS_INFO = MethodContract(
    name="conversations.info",
    verb="GET",
    consumes=(FORM,),
    scope="channels:read",  # security.slackAuth: channels:read, groups:read, im:read, mpim:read
    parameters=(
        Parameter("channel"),
        Parameter("include_locale", "boolean"),
        Parameter("include_num_members", "boolean"),
    ),
    errors=frozenset(
        {
            "missing_scope", "channel_not_found", "team_added_to_org", "not_authed", "invalid_auth",
            "account_inactive", "invalid_arg_name", "invalid_array_arg", "invalid_charset", "invalid_form_data",
            "invalid_post_type", "missing_post_type", "invalid_json", "json_not_object", "request_timeout",
            "upgrade_required",
        }
    ),
)  # fmt: skip

METHODS: dict[str, MethodContract] = {m.name: m for m in (AUTH_TEST, CHAT_POST_MESSAGE, CONVERSATIONS_INFO)}

# definitions.* patterns of the ids and timestamps the simulator hands out.
CHANNEL_ID = r"^[CGD][A-Z0-9]{8,}$"  # defs_channel
TEAM_ID = r"^[T][A-Z0-9]{2,}$"  # defs_team
USER_ID = r"^[UW][A-Z0-9]{2,}$"  # defs_user_id
BOT_ID = r"^B[A-Z0-9]{8,}$"  # defs_bot_id
TS = r"^\d{10}\.\d{6}$"  # defs_ts

# Not in the spec; from Slack's documentation (api.slack.com/docs/rate-limits, /methods/chat.postMessage,
# /web "Basics"): the rate-limit answer is HTTP 429 + Retry-After + error "ratelimited"; chat.postMessage also
# answers invalid_blocks (malformed blocks), token_revoked, invalid_arguments (an argument of the wrong type)
# and msg_too_long past 40,000 characters of text; JSON bodies need "Authorization: Bearer" (a token inside a
# JSON body is not read).
DOCUMENTED_ONLY = frozenset({"ratelimited", "invalid_blocks", "token_revoked", "invalid_arguments"})
MAX_TEXT_CHARS = 40_000
# Rate limits (api.slack.com/docs/rate-limits): requests per minute per method per app per workspace. Tier 3 is
# "50+", Tier 4 "100+"; chat.postMessage is "special": about one message per second per channel, short bursts
# allowed. Which tier auth.test and conversations.info sit in is taken from their method pages (inferred here).
TIER_PER_MINUTE = {"auth.test": 100, "conversations.info": 50, "chat.postMessage": 60}
