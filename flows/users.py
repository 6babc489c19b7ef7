"""User ids: which are accepted, and how one is written into a store namespace.

An id is letters, digits and ``_.@-`` (up to 64 characters, starting with a letter or
digit), so an e-mail address will do. The LangGraph store forbids periods in namespace
labels, so ``user_label`` escapes them (reversibly, and ids without a period are written
as they are, so existing data stays where it is).

Example::

    >>> user_label("ana.smith@example.com")
    'ana%2Esmith@example%2Ecom'
    >>> valid_user_id("../../etc")
    False
"""

from __future__ import annotations

import re

from integrations.errors import UserInputError

USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}")
RULE = "letters, digits and _.@- (starting with a letter or digit), at most 64 characters"


def valid_user_id(user_id: object) -> bool:
    """Whether ``user_id`` is an id the product accepts."""
    return isinstance(user_id, str) and USER_ID.fullmatch(user_id) is not None


def check_user_id(user_id: str) -> str:
    """``user_id`` itself when valid; else a ``UserInputError`` that says what an id may be."""
    if not valid_user_id(user_id):
        shown = user_id if len(user_id) <= 80 else user_id[:77] + "..."
        raise UserInputError(
            f"{shown!r} is not a valid user id: use {RULE}.",
            hint=f"Choose a user id of {RULE}, e.g. ana.smith@example.com.",
        )
    return user_id


def user_label(user_id: str) -> str:
    """``user_id`` as one label of a store namespace (no periods there)."""
    return user_id.replace("%", "%25").replace(".", "%2E")
