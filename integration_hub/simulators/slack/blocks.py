"""Block Kit checks for ``chat.postMessage``'s ``blocks``: what Slack refuses with ``invalid_blocks``.

The Web API spec only says ``blocks`` is an array of objects with a ``type`` (``definitions.blocks``); the rest
is Slack's Block Kit reference (api.slack.com/reference/block-kit): at most 50 blocks a message; ``header``
takes ``plain_text`` of at most 150 characters; ``section`` a text object (at most 3000) and/or at most 10
``fields`` (each at most 2000); ``context`` at most 10 text or image elements; ``actions`` at most 25 elements,
a ``button`` with ``plain_text`` of at most 75 characters and a ``url`` of at most 3000; ``divider`` nothing.
Each problem is reported as Slack does, a reason with a JSON pointer into the blocks.
"""

from __future__ import annotations

import json
from typing import Any

MAX_BLOCKS = 50
TEXT_TYPES = ("plain_text", "mrkdwn")
BLOCK_TYPES = frozenset({"section", "header", "context", "actions", "divider", "image", "input", "file", "rich_text"})


def parse_blocks(raw: Any) -> tuple[list[dict[str, Any]] | None, list[str]]:
    """``blocks`` as a form string (URL-encoded JSON) or a JSON body's array; the blocks or the problems."""
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return None, ["blocks is not valid JSON"]
    if not isinstance(raw, list):
        return None, ["blocks must be an array [json-pointer:/blocks]"]
    problems: list[str] = []
    if len(raw) > MAX_BLOCKS:
        problems.append(f"no more than {MAX_BLOCKS} items allowed [json-pointer:/blocks]")
    for index, block in enumerate(raw):
        problems.extend(_block(block, f"/blocks/{index}"))
    return (raw if not problems else None), problems


def _block(block: Any, at: str) -> list[str]:
    if not isinstance(block, dict) or not isinstance(block.get("type"), str):
        return [f"must be an object with a type [json-pointer:{at}]"]
    kind = block["type"]
    if kind not in BLOCK_TYPES:
        return [f"unknown block type '{kind}' [json-pointer:{at}/type]"]
    if kind == "header":
        return _text(block.get("text"), f"{at}/text", 150, plain_only=True)
    if kind == "section":
        problems: list[str] = []
        if "text" not in block and "fields" not in block:
            problems.append(f"must provide text or fields [json-pointer:{at}]")
        if "text" in block:
            problems += _text(block["text"], f"{at}/text", 3000)
        if "fields" in block:
            fields = block["fields"]
            if not isinstance(fields, list) or not 1 <= len(fields) <= 10:
                problems.append(f"fields must hold 1 to 10 items [json-pointer:{at}/fields]")
            else:
                for i, item in enumerate(fields):
                    problems += _text(item, f"{at}/fields/{i}", 2000)
        return problems
    if kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            return [f"elements must hold 1 to 10 items [json-pointer:{at}/elements]"]
        return [p for i, e in enumerate(elements) for p in _context_element(e, f"{at}/elements/{i}")]
    if kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
            return [f"elements must hold 1 to 25 items [json-pointer:{at}/elements]"]
        return [p for i, e in enumerate(elements) for p in _action(e, f"{at}/elements/{i}")]
    if kind == "divider":
        extra = set(block) - {"type", "block_id"}
        return [f"divider takes no {sorted(extra)[0]} [json-pointer:{at}]"] if extra else []
    return []  # image, input, file, rich_text: accepted as Slack's loose definition does


def _text(obj: Any, at: str, limit: int, *, plain_only: bool = False) -> list[str]:
    allowed = ("plain_text",) if plain_only else TEXT_TYPES
    if not isinstance(obj, dict) or obj.get("type") not in allowed:
        return [f"must be a {' or '.join(allowed)} text object [json-pointer:{at}]"]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [f"must be more than 0 characters [json-pointer:{at}/text]"]
    if len(text) > limit:
        return [f"must be less than {limit + 1} characters [json-pointer:{at}/text]"]
    return []


def _context_element(element: Any, at: str) -> list[str]:
    if isinstance(element, dict) and element.get("type") == "image":
        complete = element.get("image_url") and element.get("alt_text")
        return [] if complete else [f"image needs image_url and alt_text [json-pointer:{at}]"]
    return _text(element, at, 3000)


def _action(element: Any, at: str) -> list[str]:
    if not isinstance(element, dict) or element.get("type") != "button":
        return []  # other interactive elements are not what the hub sends; accepted
    problems = _text(element.get("text"), f"{at}/text", 75, plain_only=True)
    url = element.get("url")
    if url is not None and (not isinstance(url, str) or not 1 <= len(url) <= 3000):
        problems.append(f"url must be 1 to 3000 characters [json-pointer:{at}/url]")
    if element.get("style") not in (None, "primary", "danger"):
        problems.append(f"style must be primary or danger [json-pointer:{at}/style]")
    return problems
