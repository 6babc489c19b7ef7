"""The OpenAPI document allows exactly the bodies the server takes, and a 405 lists every
method of the path.

Each body is checked twice: against the served document (jsonschema) and by sending it.
A body the document allows must not be refused for its shape (400 or 422), and one it
forbids must not be taken (a 4xx).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import jsonschema
import jsonschema_rs
import pytest
from api_harness import ServerThread

BIG = 2**53 + 1
RUN_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("a message", {"input": {"message": "help"}}),
    ("neither input nor command", {"input": None, "command": None}),
    ("an empty body", {}),
    ("a blank message", {"input": {"message": "   "}}),
    ("an answer", {"command": {"resume": "yes"}}),
    ("an answer in an object", {"command": {"resume": {"answer": True}}}),
    ("an object with no answer", {"command": {"resume": {"other": "yes"}}}),
    ("a blank answer", {"command": {"resume": " "}}),
    ("a null answer and a message", {"command": {"resume": None}, "input": {"message": "hi"}}),
    ("a user message", {"input": {"messages": [{"role": "user", "content": "help"}]}}),
    ("content blocks", {"input": {"messages": [{"type": "human", "content": [{"text": "hi"}]}]}}),
    ("only an assistant message", {"input": {"messages": [{"role": "ai", "content": "hi"}]}}),
    ("a blank user message", {"input": {"messages": [{"role": "user", "content": " "}]}}),
    # str.strip() takes \x1e as white space, where other regex engines' \s does not
    ("a message of separators", {"input": {"message": "\x1c\x1e\u2028"}}),
    (
        "a user message of separators",
        {"input": {"messages": [{"role": "user", "content": "\x1e"}]}},
    ),
    ("NUL in metadata", {"input": {"message": "hi"}, "metadata": {"k": "a\x00b"}}),
    ("NUL in a metadata key", {"input": {"message": "hi"}, "metadata": {"a\x00": 1}}),
    ("a number above 2^53", {"input": {"message": "hi"}, "metadata": {"n": BIG}}),
    ("a float above 2^53", {"input": {"message": "hi"}, "metadata": {"n": 1e300}}),
    ("2^53 itself", {"input": {"message": "hi"}, "metadata": {"n": 2**53}}),
    ("NUL in the message", {"input": {"message": "hi\x00"}}),
    ("0 for true", {"input": {"message": "hi"}, "stream_resumable": 0}),
]
THREAD_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("no id", {"metadata": {"a": 1}}),
    ("a thread id", {"thread_id": "mine"}),
    ("an empty thread id", {"thread_id": ""}),
    ("NUL in metadata", {"metadata": {"a": "\x00"}}),
    ("a number above 2^53", {"metadata": {"a": [BIG]}}),
]
SEARCH_BODIES: list[tuple[str, dict[str, Any]]] = [
    ("a page", {"limit": 5, "offset": 0}),
    ("false for an offset", {"offset": False}),
    ("true for a limit", {"limit": True}),
    ("a whole float", {"limit": 5.0}),
]


@pytest.fixture(scope="module")
def api(server: ServerThread) -> Iterator[tuple[httpx.Client, dict[str, Any]]]:
    with server.client("schema-checker") as client:
        yield client, client.get("/openapi.json").json()


def body_schema(doc: dict[str, Any], path: str) -> dict[str, Any]:
    """The request body's schema of POST ``path``, with the document's components."""
    content = doc["paths"][path]["post"]["requestBody"]["content"]["application/json"]
    return {**content["schema"], "components": doc["components"]}


def allowed(doc: dict[str, Any], path: str, body: dict[str, Any]) -> bool:
    """What the document allows, the same under Python's regular expressions and Rust's
    (schemathesis generates with one, validates with the other: they differ on \\s)."""
    schema = body_schema(doc, path)
    in_python = bool(jsonschema.Draft202012Validator(schema).is_valid(body))
    in_rust = bool(jsonschema_rs.validator_for(schema).is_valid(body))
    assert in_python == in_rust, f"the engines disagree on {body!r}"
    return in_python


def check(api: tuple[httpx.Client, dict[str, Any]], path: str, url: str, body: Any) -> None:
    client, doc = api
    says = allowed(doc, path, body)
    r = client.post(url, json=body)
    assert r.status_code < 500, r.text
    # allowed: not refused for its shape (a 404 or 409 for the thread's state is fine);
    # forbidden: not taken
    assert (r.status_code not in (400, 422)) if says else (r.status_code >= 400), (
        f"the document {'allows' if says else 'forbids'} it, the server answered "
        f"{r.status_code}: {r.text[:300]}"
    )


@pytest.mark.parametrize(("what", "body"), RUN_BODIES, ids=[w for w, _ in RUN_BODIES])
def test_run_bodies(api: tuple[httpx.Client, dict[str, Any]], what: str, body: Any) -> None:
    client, _ = api
    tid = client.post("/threads", json={}).json()["thread_id"]
    check(api, "/threads/{thread_id}/runs", f"/threads/{tid}/runs", body)


@pytest.mark.parametrize(("what", "body"), THREAD_BODIES, ids=[w for w, _ in THREAD_BODIES])
def test_thread_bodies(api: tuple[httpx.Client, dict[str, Any]], what: str, body: Any) -> None:
    check(api, "/threads", "/threads", body)


@pytest.mark.parametrize(("what", "body"), SEARCH_BODIES, ids=[w for w, _ in SEARCH_BODIES])
def test_search_bodies(api: tuple[httpx.Client, dict[str, Any]], what: str, body: Any) -> None:
    check(api, "/threads/search", "/threads/search", body)
    check(api, "/assistants/search", "/assistants/search", body)


def test_the_document_states_the_limits(api: tuple[httpx.Client, dict[str, Any]]) -> None:
    _, doc = api
    value = doc["components"]["schemas"]["JsonValue"]
    assert "16 levels" in value["description"]
    number = next(s for s in value["anyOf"] if s.get("type") == "number")
    assert number["maximum"] == 2**53 and number["minimum"] == -(2**53)


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/threads/{tid}", "DELETE, GET, PATCH"),
        ("/threads/count", "POST"),
        ("/threads/{tid}/history", "GET, POST"),
        ("/threads/{tid}/runs", "GET, POST"),
        ("/assistants/satya", "DELETE, GET, PATCH"),
    ],
)
def test_a_405_allows_every_method_of_the_path(
    api: tuple[httpx.Client, dict[str, Any]], path: str, methods: str
) -> None:
    client, doc = api
    tid = client.post("/threads", json={}).json()["thread_id"]
    r = client.request("PUT", path.format(tid=tid))
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    assert r.headers["allow"] == methods
    template = path.replace("{tid}", "{thread_id}").replace("satya", "{assistant_id}")
    assert ", ".join(sorted(m.upper() for m in doc["paths"][template])) == methods


def test_an_unknown_stream_mode_to_join_is_refused(
    api: tuple[httpx.Client, dict[str, Any]],
) -> None:
    """Found by the full schemathesis campaign: any text was taken as a stream mode."""
    client, _ = api
    tid = client.post("/threads", json={}).json()["thread_id"]
    run = client.post(f"/threads/{tid}/runs/wait", json={"input": {"message": "help"}})
    assert run.status_code == 200, run.text
    rid = client.get(f"/threads/{tid}/runs").json()[0]["run_id"]
    base = f"/threads/{tid}/runs/{rid}/stream"
    assert client.get(base, params={"stream_mode": "false"}).status_code == 422
    assert client.get(base, params={"stream_mode": "custom"}).status_code == 200
    assert client.get(base, params={"stream_mode": ""}).status_code == 200
    assert client.get(f"/runs/{rid}/stream", params={"stream_mode": "bogus"}).status_code == 422
