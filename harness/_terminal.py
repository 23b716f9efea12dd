"""Text safe to print to a terminal: every control character from a log shown as an escape, never obeyed.

Model names, column names, question ids and file names come from files the user did not write. Printed raw, an
ANSI/OSC escape in one (``"\\x1b]0;TITLE\\x07\\x1b[2J"``) retitles and clears the user's terminal, a carriage
return overwrites the line before it, and a lone surrogate (from a log that was not valid UTF-8) makes ``print``
itself raise. :func:`clean` replaces each such character by a visible Python-style escape (``\\x1b``, ``\\r``,
``\\u202e``, ``\\udcff``), so the text stays readable and unambiguous, and nothing in it reaches the terminal as
a command. It is applied at the few places that print: the error line (:class:`HarnessInputError` formats its
message through it), the progress printer, the loader warnings and the "wrote ..." lines.

Characters escaped: C0 and C1 controls (U+0000-U+001F, U+007F-U+009F; ``\\t`` and ``\\n`` too unless kept),
the bidirectional overrides and isolates (U+200E, U+200F, U+202A-U+202E, U+2066-U+2069: "Trojan Source",
CVE-2021-42574), the line and paragraph separators U+2028/U+2029, and surrogates U+D800-U+DFFF.
"""

from __future__ import annotations

import re

_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    ch = match.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean(text: object, *, keep_newlines: bool = False) -> str:
    """``str(text)`` with every terminal control character replaced by a visible escape.

    With ``keep_newlines`` a ``\\n`` stays a line break (for multi-line output such as a CSV on a terminal);
    a ``\\r`` is always escaped, since it moves the cursor back over what was printed.
    """
    s = str(text)
    if keep_newlines:
        return "\n".join(_UNSAFE.sub(_escape, part) for part in s.split("\n"))
    return _UNSAFE.sub(_escape, s)


def is_clean(text: str) -> bool:
    """True when ``text`` holds no character :func:`clean` would escape other than newlines."""
    return _UNSAFE.search(text.replace("\n", "")) is None
