"""What the server accepts in a body, checked here and written into the OpenAPI document.

The document must allow exactly what the server takes: a client generated from it (or a
fuzzer reading it) never builds a body the server then refuses. So each rule lives once,
as a check and as its JSON Schema:

- JSON values (metadata, config, messages): no NUL in text or keys, numbers within
  ±2^53 (what a JavaScript client reads exactly), at most 16 levels deep (one recursive
  schema, ``JsonValue``: JSON Schema has no depth keyword, so its description says it).
- A run needs a message or an answer: ``input`` with words (a message, a user message in
  ``messages``, an ``upload_id`` or a ``path``), or ``command.resume`` with an answer.
"""

from __future__ import annotations

import math
import re
from typing import Any

from fastapi import FastAPI, Request

MAX_DEPTH = 16
MAX_NUMBER = 2**53
NO_NUL = "^[^\\u0000]*$"
# what str.strip() removes, spelled out: regex engines disagree on \s (\x1c-\x1f…)
SPACE = (
    "".join(
        f"\\u{c:04x}"
        for c in (
            *range(0x09, 0x0E),
            *range(0x1C, 0x21),
            0x85,
            0xA0,
            0x1680,
            *range(0x2000, 0x200B),
        )
    )
    + "\\u2028\\u2029\\u202f\\u205f\\u3000"
)
# some character other than white space, and no NUL: str.strip() leaves something
WORDS = f"^[{SPACE}]*[^\\u0000{SPACE}][^\\u0000]*$"
USER_ROLES = ("user", "human")
ANSWER_KEYS = ("answer", "text", "message", "value")


VALUE_REF = {"$ref": "#/components/schemas/JsonValue"}


def json_object_schema() -> dict[str, Any]:
    """A JSON object of JSON values (no NUL in its keys)."""
    return {
        "type": "object",
        "propertyNames": {"pattern": NO_NUL},
        "additionalProperties": VALUE_REF,
        "description": f"JSON, at most {MAX_DEPTH} levels deep.",
    }


def json_components() -> dict[str, dict[str, Any]]:
    """``JsonValue``: text without NUL, a number within ±2^53, true/false, null, or an
    array or object of them."""
    return {
        "JsonValue": {
            "description": "Text without NUL, a number within ±2^53, true/false, null, or an "
            f"array or object of them (at most {MAX_DEPTH} levels deep in all).",
            "anyOf": [
                {"type": "string", "pattern": NO_NUL},
                {"type": "number", "minimum": -MAX_NUMBER, "maximum": MAX_NUMBER},
                {"type": "boolean"},
                {"type": "null"},
                {"type": "array", "items": VALUE_REF},
                json_object_schema(),
            ],
        }
    }


def check_json(value: Any, depth: int = 0) -> Any:
    """Refuse what no store can keep or a JavaScript client read: NUL or unpaired
    surrogates, numbers beyond ±2^53, nesting deeper than 16 levels."""
    if depth > MAX_DEPTH:
        raise ValueError(f"nested too deeply (at most {MAX_DEPTH} levels)")
    if isinstance(value, str):
        check_text(value)
    elif isinstance(value, bool) or value is None:
        pass
    elif isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError("numbers must be finite")
        if abs(value) > MAX_NUMBER:
            raise ValueError("numbers must be within ±2^53")
    elif isinstance(value, dict):
        for k, v in value.items():
            check_json(k, depth + 1)
            check_json(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            check_json(v, depth + 1)
    return value


def check_text(value: str) -> str:
    if "\x00" in value:
        raise ValueError("text may not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("text must be valid Unicode (no unpaired surrogates)") from None
    return value


def words(value: Any) -> str:
    """The text of a scalar answer or message ('' when it has none)."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return ""


def answer_text(resume: Any) -> str:
    """A gate answer as words: text, true/false, a number, or the first of answer, text,
    message, value in an object that has words ('' when there are none)."""
    if isinstance(resume, dict):
        for key in ANSWER_KEYS:
            said = words(resume.get(key))
            if said:
                return said
        return ""
    return words(resume)


def user_text(messages: list[dict[str, Any]]) -> str:
    """The last user message with words in LangGraph's ``messages`` form (its ``role``,
    else its ``type``, is user or human; ``content`` is text or blocks with ``text``)."""
    for message in reversed(messages):
        role = message["role"] if "role" in message else message.get("type")
        if role not in USER_ROLES:
            continue
        content = message.get("content")
        if isinstance(content, list):  # content blocks: join their text
            content = " ".join(
                b["text"] for b in content if isinstance(b, dict) and isinstance(b.get("text"), str)
            )
        said = content.strip() if isinstance(content, str) else ""
        if said:
            return said
    return ""


_SCALAR_ANSWER: dict[str, Any] = {
    "anyOf": [
        {"type": "string", "pattern": WORDS},
        {"type": "boolean"},
        {"type": "number"},
    ]
}
_USER_MESSAGE: dict[str, Any] = {
    "type": "object",
    "required": ["content"],
    "properties": {
        "content": {
            "anyOf": [
                {"type": "string", "pattern": WORDS},
                {
                    "type": "array",
                    "contains": {
                        "type": "object",
                        "required": ["text"],
                        "properties": {"text": {"type": "string", "pattern": WORDS}},
                    },
                },
            ]
        }
    },
    "anyOf": [
        {"required": ["role"], "properties": {"role": {"enum": list(USER_ROLES)}}},
        {
            "not": {"required": ["role"]},
            "required": ["type"],
            "properties": {"type": {"enum": list(USER_ROLES)}},
        },
    ],
}
RUN_BODY_RULE: dict[str, Any] = {
    "anyOf": [
        {
            "title": "an answer to the pending gate",
            "required": ["command"],
            "properties": {
                "command": {
                    "type": "object",
                    "required": ["resume"],
                    "properties": {
                        "resume": {
                            "anyOf": [
                                *_SCALAR_ANSWER["anyOf"],
                                {
                                    "type": "object",
                                    "anyOf": [
                                        {"required": [key], "properties": {key: _SCALAR_ANSWER}}
                                        for key in ANSWER_KEYS
                                    ],
                                },
                            ]
                        }
                    },
                }
            },
        },
        {
            "title": "a message",
            "required": ["input"],
            "properties": {
                "command": {
                    "anyOf": [
                        {"type": "null"},
                        {"type": "object", "properties": {"resume": {"type": "null"}}},
                    ]
                },
                "input": {
                    "type": "object",
                    "anyOf": [
                        {
                            "required": ["message"],
                            "properties": {"message": {"type": "string", "pattern": WORDS}},
                        },
                        {
                            "required": ["upload_id"],
                            "properties": {"upload_id": {"type": "string", "minLength": 1}},
                        },
                        {
                            "required": ["path"],
                            "properties": {"path": {"type": "string", "minLength": 1}},
                        },
                        {
                            "required": ["messages"],
                            "properties": {
                                "messages": {"type": "array", "contains": _USER_MESSAGE}
                            },
                        },
                    ],
                },
            },
        },
    ]
}
THREAD_ID_RULE: dict[str, Any] = {
    "anyOf": [{"type": "null"}, {"type": "string", "maxLength": 0}],
    "description": "Not supported: the server picks the id (a thread_id is refused with 400). "
    "Keep your own id in metadata.",
}


def add_json_components(app: FastAPI) -> None:
    """Put the ``JsonValue`` schema into the app's OpenAPI document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = build()
            doc.setdefault("components", {}).setdefault("schemas", {}).update(json_components())
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]


def allowed_methods(app: FastAPI, request: Request) -> str:
    """The ``Allow`` header of a 405: the methods the OpenAPI document gives the path's
    most specific template (``/threads/count`` is POST, not the GET of
    ``/threads/{thread_id}``)."""
    path, root = request.scope["path"], request.scope.get("root_path", "")
    path = path[len(root) :] if root and path.startswith(root) else path  # when mounted
    matching = [
        template
        for template in app.openapi().get("paths", {})
        if re.fullmatch(re.sub(r"\\{[^}]*\\}", "[^/]+", re.escape(template)), path)
    ]
    if not matching:
        return ""
    best = min(matching, key=lambda template: (template.count("{"), -len(template)))
    methods = app.openapi()["paths"][best]
    return ", ".join(sorted(method.upper() for method in methods))
