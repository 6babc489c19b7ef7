"""How much of a message is read. Every interpreter works on a bounded prefix, so a reading
takes about the same time whatever the message's length; a message over ``MAX_MESSAGE_CHARS``
is refused where it enters (the HTTP schema, the Assistant), with how long it may be.

Example::

    >>> len(head("upload " + "a" * 50_000)) == READ_CHARS
    True
"""

from __future__ import annotations

MAX_MESSAGE_CHARS = 20_000  # the longest message accepted (the HTTP API's own limit)
READ_CHARS = 1_000  # what the interpreters read of it: what to do is said in the first words


def head(text: str) -> str:
    """The part of ``text`` the interpreters read."""
    return text[:READ_CHARS]
