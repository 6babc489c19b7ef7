"""Secrets pasted into a message are removed before anything keeps the text.

One pattern for every way in (chat, HTTP API, journeys): Sui private keys
(``suiprivkey1…``), Satya API keys (``sk-satya-…``) and OpenAI-style keys (``sk-…``).
Nothing keeps them: not the thread's state, its checkpoints, a run log, nor a reply
that quotes the message.

Example::

    >>> scrub_secrets("key sk-satya-abcdef123 please")
    'key [secret removed] please'
"""

from __future__ import annotations

import re

SECRET_REMOVED = "[secret removed]"
_SECRET_IN_TEXT = re.compile(
    r"suiprivkey1[0-9a-z]{20,}|sk-satya-[A-Za-z0-9_-]{6,}|\bsk-[A-Za-z0-9_-]{16,}",
    re.IGNORECASE,
)


def scrub_secrets(text: str) -> str:
    """``text`` with private keys and API keys replaced by ``[secret removed]``."""
    return _SECRET_IN_TEXT.sub(SECRET_REMOVED, text)
