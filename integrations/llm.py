"""The chat model: an OpenAI-compatible endpoint, reached only when one is configured.

Offline (no key, no base URL) there is no model and the rule interpreter answers
alone; ``agent.wiring.build_interpreter`` makes that choice. This module is the
adapter to the endpoint: a client with the project's timeout and no silent
retries (a slow model must not hold a turn), and one call that asks for JSON
matching a schema and returns the text of the answer.
"""

from __future__ import annotations

from typing import Any

import httpx
from openai import AsyncOpenAI


class ChatModel:
    """One OpenAI-compatible chat model (``/chat/completions`` with a JSON schema)."""

    def __init__(
        self,
        *,
        api_key: str | None,
        base_url: str | None,
        model: str,
        http_client: httpx.AsyncClient | None = None,
        timeout_s: float = 20.0,
    ) -> None:
        self.model = model
        self._client = AsyncOpenAI(
            api_key=api_key or "not-needed",  # local servers (vLLM, Ollama) take any key
            base_url=base_url,
            # openai's stubs name httpx2's client; it accepts an httpx client at runtime too.
            http_client=http_client,  # type: ignore[arg-type]
            timeout=timeout_s,
            max_retries=0,
        )

    async def json_answer(
        self, *, system: str, user: str, schema_name: str, schema: dict[str, Any]
    ) -> str:
        """The model's answer to ``user``, asked for as JSON under ``schema``.

        Raises whatever the endpoint raises (connection, HTTP status, timeout) and
        ``ValueError`` for an empty answer; callers decide what a failure means.
        """
        response = await self._client.chat.completions.create(
            model=self.model,
            messages=[
                {"role": "system", "content": system},
                {"role": "user", "content": user},
            ],
            response_format={
                "type": "json_schema",
                "json_schema": {"name": schema_name, "schema": schema, "strict": False},
            },
            temperature=0,
        )
        content = response.choices[0].message.content if response.choices else None
        if not content:
            raise ValueError("empty response")
        return content

    async def aclose(self) -> None:
        await self._client.close()
