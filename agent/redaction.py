"""Secrets pasted into a message are removed before anything keeps the text.

One scrubber for every way in (chat, HTTP API, journeys), run before the text reaches the
state, a log, a reply that quotes it or a language model. It removes every key format the
product itself reads and the common credential shapes:

- Sui private keys: ``suiprivkey1…`` (bech32) and keystore entries, base64(flag ‖ 32-byte
  secret): 44 characters starting with ``A`` (flags 0–3);
- API keys: Satya's ``sk-satya-…``, OpenAI-style ``sk-…``, GitHub ``ghp_…``/``github_pat_…``,
  AWS ``AKIA…``, Slack ``xox?-…``, Google ``AIza…``, JSON web tokens (``eyJ….….…``);
- bearer tokens (``Bearer …``, ``Authorization: …``);
- a value labelled as a secret: ``private key is 3f9a…`` (hex or otherwise),
  ``api_key=…``, ``password: …``, ``token: …``, ``seed: …``.

Sui object ids and addresses (``0x`` + 64 hex), digests and Walrus blob ids are left alone
unless labelled as a secret. Every pattern is linear in the text.

Example::

    >>> scrub_secrets("key sk-satya-abcdef123 please")
    'key [secret removed] please'
    >>> scrub_secrets("Authorization: Bearer abc.def-123456")
    'Authorization: Bearer [secret removed]'
"""

from __future__ import annotations

import re

SECRET_REMOVED = "[secret removed]"
_B64 = r"A-Za-z0-9+/"
_SECRET_IN_TEXT = re.compile(
    r"suiprivkey1[0-9a-z]{20,}"
    rf"|(?<![{_B64}=_-])A[{_B64}]{{43}}(?![{_B64}=_-])"  # a keystore entry: flag 0-3 + 32 bytes
    r"|sk-satya-[A-Za-z0-9_-]{6,}"
    r"|(?<![\w-])sk-[A-Za-z0-9_-]{16,}"
    r"|(?<![\w-])(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}|(?<![\w-])github_pat_\w{20,}"
    r"|(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"
    r"|(?<![\w-])xox[abposr]-[A-Za-z0-9-]{10,}"
    r"|(?<![\w-])AIza[0-9A-Za-z_-]{35}"
    r"|(?<![\w-])eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}",
)
# A credential after its scheme or label: the label stays, the value goes.
_LABELLED = re.compile(
    r"(?P<label>\b(?:bearer|basic|token)\s+"
    r"|\b(?:authorization|proxy-authorization)\s*:\s*(?:bearer\s+|basic\s+|token\s+)?"
    r"|(?<![A-Za-z0-9])(?:private[ _-]?key|secret[ _-]?key|secret|api[ _-]?key|access[ _-]?key|apikey|"
    r"password|passphrase|passwd|seed(?:[ _-]?phrase)?|mnemonic|token|keystring)s?"
    r"(?:\s+is|\s*[:=])\s*[\"']?)"
    r"(?P<value>[A-Za-z0-9._~+/=-]{8,})",
    re.IGNORECASE,
)


def scrub_secrets(text: str) -> str:
    """``text`` with private keys, API keys and tokens replaced by ``[secret removed]``."""
    text = _SECRET_IN_TEXT.sub(SECRET_REMOVED, text)
    return _LABELLED.sub(_keep_label, text)


def _keep_label(m: re.Match[str]) -> str:
    value = m.group("value")
    if value == SECRET_REMOVED or (len(value) < 20 and not any(c.isdigit() for c in value)):
        return m.group(0)  # "token classification", "password reset": words, not a secret
    return m.group("label") + SECRET_REMOVED
