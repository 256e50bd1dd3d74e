"""What counts as a line break or control character in text we store or send.

One definition for the single-line form fields (which refuse such text) and
for email subjects (which collapse it into spaces, so a value stored before
the fields refused it still cannot split a header).
"""

from __future__ import annotations

import unicodedata

# Cc: control characters (\t \n \r \x00 \x7f ...); Zl, Zp: U+2028 and U+2029, which break lines too.
_BREAKING = frozenset({"Cc", "Zl", "Zp"})


def has_control_characters(text: str) -> bool:
    """Whether the text holds a line break or any other control character."""
    return any(unicodedata.category(ch) in _BREAKING for ch in text)


def one_line(text: str) -> str:
    """The text with each line break or other control character replaced by a space."""
    return "".join(" " if unicodedata.category(ch) in _BREAKING else ch for ch in text)
