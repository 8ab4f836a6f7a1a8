"""Promo code text: generating unguessable codes people can read aloud, and normalizing what they type."""

from __future__ import annotations

import re
import secrets
import unicodedata
from collections.abc import Callable

# No look-alikes: 0/O, 1/I/L are left out, so a code read off paper cannot be mistyped into another.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GROUP = 4
GROUPS = 2  # 31^8 ~ 8.5e11 codes: a guess hits one of 100,000 live codes about once in 8.5 million
_SEPARATORS = re.compile(r"[\s\-_]+")


def normalize_code(typed: str) -> str:
    """What a code is stored under: compatibility-normalized, upper case, without spaces and dashes."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", typed)).upper()


def format_code(prefix: str | None, body: str) -> str:
    """As printed: the prefix and the random part in groups of four, e.g. WIN-7K3P-9XQM."""
    groups = [body[start : start + GROUP] for start in range(0, len(body), GROUP)]
    return "-".join([prefix.upper(), *groups] if prefix else groups)


def random_body(choice: Callable[[str], str] = secrets.choice) -> str:
    """The random part of a generated code, from the operating system's CSPRNG (`secrets`)."""
    return "".join(choice(ALPHABET) for _ in range(GROUP * GROUPS))


def generate_code(prefix: str | None, choice: Callable[[str], str] = secrets.choice) -> str:
    return format_code(prefix, random_body(choice))
