"""Discord's rules for what a bot sends: messages, autocomplete results and modals.

Discord refuses a body that breaks them with ``400`` Invalid Form Body (code 50035), or an
empty new message with ``400`` (code 50006). The stand-in (:mod:`tests.discord.standin`)
checks every callback, follow-up, edit and channel message with these functions, so that a
test fails when the bot sends what Discord would refuse (a 101-character autocomplete value,
a 46-character modal title, a sixth button in a row, two buttons with one ``custom_id``…).

Each function returns the problems found, as short sentences (an empty list: Discord takes it).
"""

from __future__ import annotations

from typing import Any

CONTENT = 2000
EMBEDS = 10
EMBED_TOTAL = 6000
EMBED_TEXT = {"title": 256, "description": 4096}
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR_NAME = 256
ROWS = 5
ROW_BUTTONS = 5
BUTTON_LABEL = 80
CUSTOM_ID = 100
FILES = 10
CHOICES = 25
CHOICE_TEXT = 100
MODAL_TITLE = 45
MODAL_ROWS = 5
INPUT_LABEL = 45
INPUT_PLACEHOLDER = 100
INPUT_LENGTH = 4000

ACTION_ROW, BUTTON, TEXT_INPUT, LABEL = 1, 2, 4, 18
LINK_BUTTON = 5


def _over(value: Any, limit: int) -> bool:
    return isinstance(value, str) and len(value) > limit


def _embed_problems(embeds: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    if len(embeds) > EMBEDS:
        problems.append(f"{len(embeds)} embeds (at most {EMBEDS})")
    total = 0
    for number, embed in enumerate(embeds):
        where = f"embed {number}"
        for key, limit in EMBED_TEXT.items():
            text = embed.get(key) or ""
            total += len(text)
            if len(text) > limit:
                problems.append(f"{where}: {key} of {len(text)} characters (at most {limit})")
        fields = embed.get("fields") or []
        if len(fields) > FIELDS:
            problems.append(f"{where}: {len(fields)} fields (at most {FIELDS})")
        for field in fields:
            name, value = field.get("name") or "", field.get("value") or ""
            total += len(name) + len(value)
            if not name or len(name) > FIELD_NAME or not value or len(value) > FIELD_VALUE:
                problems.append(f"{where}: a field of {len(name)}/{len(value)} characters")
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        total += len(footer) + len(author)
        if len(footer) > FOOTER or len(author) > AUTHOR_NAME:
            problems.append(f"{where}: footer or author too long")
    if total > EMBED_TOTAL:
        problems.append(f"embeds of {total} characters together (at most {EMBED_TOTAL})")
    return problems


def _component_problems(rows: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    if len(rows) > ROWS:
        problems.append(f"{len(rows)} rows of components (at most {ROWS})")
    seen: set[str] = set()
    for number, row in enumerate(rows):
        items = row.get("components") or []
        if row.get("type") != ACTION_ROW or not 1 <= len(items) <= ROW_BUTTONS:
            problems.append(f"row {number}: {len(items)} components (1 to {ROW_BUTTONS})")
        for item in items:
            if item.get("type") != BUTTON:
                continue
            if _over(item.get("label"), BUTTON_LABEL):
                problems.append(f"a button label of {len(item['label'])} characters")
            custom_id = item.get("custom_id")
            if item.get("style") == LINK_BUTTON:
                continue
            if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= CUSTOM_ID:
                problems.append(f"a button custom_id {custom_id!r} (1 to {CUSTOM_ID} characters)")
            elif custom_id in seen:
                problems.append(f"the custom_id {custom_id!r} twice in one message")
            else:
                seen.add(custom_id)
    return problems


def message_problems(
    body: dict[str, Any], files: int = 0, *, creating: bool = True
) -> tuple[int, list[str]]:
    """The code Discord would answer with, and why, for a new message or an edit."""
    content = body.get("content")
    embeds = body.get("embeds")
    components = body.get("components")
    problems: list[str] = []
    if isinstance(content, str) and len(content) > CONTENT:
        problems.append(f"content of {len(content)} characters (at most {CONTENT})")
    if embeds:
        problems += _embed_problems(list(embeds))
    if components:
        problems += _component_problems(list(components))
    if files > FILES:
        problems.append(f"{files} files (at most {FILES})")
    if problems:
        return 50035, problems
    stickers = body.get("sticker_ids") or body.get("poll")
    if creating and not (content or embeds or components or files or stickers):
        return 50006, ["an empty message"]
    return 0, []


def autocomplete_problems(data: dict[str, Any]) -> list[str]:
    choices = data.get("choices")
    if not isinstance(choices, list):
        return ["no choices list"]
    problems: list[str] = []
    if len(choices) > CHOICES:
        problems.append(f"{len(choices)} choices (at most {CHOICES})")
    for choice in choices:
        name, value = choice.get("name"), choice.get("value")
        if not isinstance(name, str) or not 1 <= len(name) <= CHOICE_TEXT:
            problems.append(f"a choice name {name!r} (1 to {CHOICE_TEXT} characters)")
        if isinstance(value, str) and len(value) > CHOICE_TEXT:
            problems.append(f"a choice value of {len(value)} characters (at most {CHOICE_TEXT})")
    return problems


def _text_inputs(items: list[dict[str, Any]]) -> list[tuple[dict[str, Any], str | None]]:
    """Every text input of a modal, with the label it is shown with: its own (in an action
    row) or its Label component's."""
    found: list[tuple[dict[str, Any], str | None]] = []
    for item in items:
        if item.get("type") == LABEL:
            inner = item.get("component") or {}
            if inner.get("type") == TEXT_INPUT:
                found.append((inner, item.get("label")))
        for inner in item.get("components") or []:
            if inner.get("type") == TEXT_INPUT:
                found.append((inner, inner.get("label")))
    return found


def modal_problems(data: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    title, custom_id = data.get("title"), data.get("custom_id")
    if not isinstance(title, str) or not 1 <= len(title) <= MODAL_TITLE:
        problems.append(f"a modal title {title!r} (1 to {MODAL_TITLE} characters)")
    if not isinstance(custom_id, str) or not 1 <= len(custom_id) <= CUSTOM_ID:
        problems.append(f"a modal custom_id {custom_id!r} (1 to {CUSTOM_ID} characters)")
    items = data.get("components") or []
    if not 1 <= len(items) <= MODAL_ROWS:
        problems.append(f"{len(items)} components in a modal (1 to {MODAL_ROWS})")
    for text_input, label in _text_inputs(items):
        if not isinstance(label, str) or not 1 <= len(label) <= INPUT_LABEL:
            problems.append(f"a text input label {label!r} (1 to {INPUT_LABEL} characters)")
        if _over(text_input.get("placeholder"), INPUT_PLACEHOLDER):
            problems.append(f"a placeholder over {INPUT_PLACEHOLDER} characters")
        inner_id = text_input.get("custom_id")
        if not isinstance(inner_id, str) or not 1 <= len(inner_id) <= CUSTOM_ID:
            problems.append(f"a text input custom_id {inner_id!r}")
        for key in ("min_length", "max_length"):
            length = text_input.get(key)
            if length is not None and not 0 <= int(length) <= INPUT_LENGTH:
                problems.append(f"a text input {key} of {length}")
    return problems
