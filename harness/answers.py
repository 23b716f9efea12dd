"""Final answers: extraction from free text, normalisation, equivalence classes, grading against gold.

Pure functions, no I/O. Loaders call them when a log holds completions (or raw answers) instead of classes.

Extractors (``EXTRACTORS``):

* ``boxed``: the content of the last ``\\boxed{...}`` / ``\\fbox{...}`` (nested braces balanced), as in the
  MATH and search-and-learn graders.
* ``hash``: the text after the last ``####`` (GSM8K reference solutions and GSM8K-style completions).
* ``answer-is``: the text after the last "the answer is" (case-insensitive), up to the end of the line,
  trailing full stop removed (the few-shot-CoT convention of Wei et al. 2022 and lm-eval's ``strict-match``).
* ``last-number``: the last number in the text (lm-eval gsm8k ``flexible-extract``).
* ``auto``: ``boxed``, then ``hash``, then ``answer-is``, then ``last-number``; the first that finds
  something.
* ``esc-letters``: the rule of the ESC repository (Yiwei98/ESC ``consistency_last.py``, last-letter task):
  lower-case, text after the last "the answer is" (the whole completion if absent), keep only letters.
* ``faithful-cot``: the rule of veronica320/Faithful-COT ``source/model/codex.py`` (no-solver branch): text
  after the last "answer is ", then remove whitespace, ``.`` and ``#``; missing phrase -> no answer.
* ``none``: the text itself is the answer (the log already holds extracted answers).

Normalisers (``NORMALISERS``): ``plain`` (spacing, LaTeX wrappers, case of plain words, numbers: ``72``,
``72.0``, ``$72``, ``1,000``, ``\\frac{1}{2}`` and ``0.5`` all to one canonical string), ``math`` (``plain``
followed by math-verify equivalence between the distinct answers of one question, when math-verify is
installed; otherwise the same as ``plain`` and the record says so) and ``none`` (exact strings).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from harness._validation import check_choice

EXTRACTORS: tuple[str, ...] = (
    "auto",
    "boxed",
    "hash",
    "answer-is",
    "last-number",
    "esc-letters",
    "faithful-cot",
    "none",
)
NORMALISERS: tuple[str, ...] = ("math", "plain", "none")


# --------------------------------------------------------------------------- extraction
def _last_braced(text: str, commands: Sequence[str]) -> str | None:
    """Content of the last ``\\cmd{...}`` for any of ``commands``, braces balanced; None if
    absent/unclosed."""
    best = -1
    for cmd in commands:
        best = max(best, text.rfind(cmd))
    if best < 0:
        return None
    i = text.find("{", best)
    if i < 0:
        # \boxed 72 (no braces): take the next token
        m = re.match(r"\\(?:boxed|fbox)\s+([^\s$]+)", text[best:])
        return m.group(1) if m else None
    depth = 0
    for j in range(i, len(text)):
        ch = text[j]
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return text[i + 1 : j]
    return None


def extract_boxed(text: str) -> str | None:
    r"""Content of the last ``\boxed{...}`` (or ``\fbox{...}``) with nested braces, or None."""
    return _last_braced(text, ("\\boxed", "\\fbox"))


def extract_hash(text: str) -> str | None:
    """Text after the last ``####`` (first line of it), or None."""
    i = text.rfind("####")
    if i < 0:
        return None
    rest = text[i + 4 :].strip().split("\n", 1)[0].strip()
    return rest or None


_ANSWER_IS = re.compile(r"the (?:final )?answer is\s*:?\s*", re.IGNORECASE)


def extract_answer_is(text: str) -> str | None:
    """Text after the last 'the answer is' up to the end of the line, trailing full stop removed, or None."""
    matches = list(_ANSWER_IS.finditer(text))
    if not matches:
        return None
    rest = text[matches[-1].end() :].split("\n", 1)[0].strip()
    rest = rest.rstrip(".").strip()
    return rest or None


_NUMBER = re.compile(r"-?\$?\d[\d,]*(?:\.\d+)?")


def extract_last_number(text: str) -> str | None:
    """The last number in the text (commas and a leading $ allowed), or None."""
    found = _NUMBER.findall(text)
    return found[-1] if found else None


def extract_esc_letters(text: str) -> str | None:
    """ESC (Yiwei98/ESC, consistency_last.py) last-letter rule; empty result -> None."""
    low = text.lower()
    i = low.rfind("the answer is")
    tail = low[i + len("the answer is") :] if i >= 0 else low
    out = "".join(ch for ch in tail if ("a" <= ch <= "z") or ("A" <= ch <= "Z"))
    return out or None


def extract_faithful_cot(text: str) -> str | None:
    """Faithful-CoT (veronica320/Faithful-COT, source/model/codex.py) no-solver rule; missing phrase ->
    None."""
    i = text.rfind("answer is ")
    if i < 0:
        return None
    out = re.sub(r"[\s.#]", "", text[i + len("answer is ") :])
    return out or None


def _extract_auto(text: str) -> str | None:
    for fn in (extract_boxed, extract_hash, extract_answer_is, extract_last_number):
        got = fn(text)
        if got is not None and got.strip():
            return got
    return None


def _extract_none(text: str) -> str | None:
    return text if text.strip() else None


_EXTRACT: dict[str, Callable[[str], str | None]] = {
    "auto": _extract_auto,
    "boxed": extract_boxed,
    "hash": extract_hash,
    "answer-is": extract_answer_is,
    "last-number": extract_last_number,
    "esc-letters": extract_esc_letters,
    "faithful-cot": extract_faithful_cot,
    "none": _extract_none,
}


def extract_answer(text: object, method: str = "auto") -> str | None:
    """The final answer in ``text`` by ``method`` (one of ``EXTRACTORS``); None when nothing is found."""
    check_choice("extractor", method, EXTRACTORS)
    if _missing(text):
        return None
    return _EXTRACT[method](str(text))


# --------------------------------------------------------------------------- normalisation
def _missing(v: object) -> bool:
    """None or a float NaN (how pandas marks a missing string)."""
    return v is None or (isinstance(v, float) and v != v)


_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_FRAC_SHORT = re.compile(r"\\[dt]?frac(\d)(\d)")
_TEXT = re.compile(r"\\(?:text|textbf|mathrm|mathbf|mbox)\s*\{([^{}]*)\}")
_NUMERIC = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:/\d+)?")
_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
_UNITS_TAIL = re.compile(r"^([-+]?[\d.,/]+)\s*(?:%|\\%|dollars?|cents?|units?|degrees?|\^\\circ|°)$")


def _canonical_number(s: str) -> str | None:
    """'72', '72.0', '+72', '1,000', '1/2', '.5' as one canonical string ('72', '1000', '1/2'); None if no
    number."""
    t = s.replace(" ", "")
    if _THOUSANDS.match(t):
        t = t.replace(",", "")
    if not _NUMERIC.fullmatch(t):
        return None
    try:
        if "/" in t:
            num, den = t.split("/")
            if Fraction(den) == 0:
                return None
            value = Fraction(num) / Fraction(den)
        else:
            value = Fraction(t)
    except (ValueError, ZeroDivisionError):
        return None
    if value.denominator == 1:
        return str(value.numerator)
    return f"{value.numerator}/{value.denominator}"


@lru_cache(maxsize=65536)
def normalize_answer(answer: str | None) -> str | None:
    r"""A canonical string for an extracted answer (None stays None; an empty answer becomes None).

    Removes surrounding ``$``, ``\(...\)``, ``\text{}`` wrappers, ``\left``/``\right``, ``\!``, trailing full
    stops, leading "x =" style assignments to one variable; collapses spacing; lower-cases answers without
    LaTeX commands; maps numbers (``72``, ``72.0``, ``$72``, ``1,000``, ``\frac{1}{2}``, ``0.5``, ``50\%``
    kept as 50) to one canonical form (a reduced fraction or an integer).
    """
    if _missing(answer):
        return None
    s = str(answer).strip()
    s = re.sub(r"^\\\(|\\\)$", "", s).strip()
    s = re.sub(r"^\\\[|\\\]$", "", s).strip()
    while len(s) >= 2 and s.startswith("$") and s.endswith("$") and not re.fullmatch(r"\$[\d.,]+", s):
        s = s[1:-1].strip()
    s = _TEXT.sub(r"\1", s)
    s = (
        s.replace("\\left", "")
        .replace("\\right", "")
        .replace("\\!", "")
        .replace("\\,", "")
        .replace("\\;", "")
    )
    s = s.replace("\\$", "$").replace("dfrac", "frac").replace("tfrac", "frac")
    s = _FRAC_SHORT.sub(r"\\frac{\1}{\2}", s)
    s = re.sub(r"\s+", " ", s).strip().rstrip(".").strip()
    s = re.sub(r"^[a-zA-Z]\s*=\s*(?=\S)", "", s) if re.match(r"^[a-zA-Z]\s*=\s*[-+\d.$\\]", s) else s
    if s.startswith("$"):
        s = s[1:].strip()
    m = _FRAC.fullmatch(s)
    if m:
        num = _canonical_number(m.group(1))
        den = _canonical_number(m.group(2))
        if num is not None and den is not None and Fraction(den) != 0:
            value = Fraction(num) / Fraction(den)
            return (
                str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
            )
    m2 = re.fullmatch(r"-\s*\\frac\{([^{}]*)\}\{([^{}]*)\}", s)
    if m2:
        num, den = _canonical_number(m2.group(1)), _canonical_number(m2.group(2))
        if num is not None and den is not None and Fraction(den) != 0:
            value = -Fraction(num) / Fraction(den)
            return (
                str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"
            )
    u = _UNITS_TAIL.match(s)
    if u:
        s = u.group(1)
    num = _canonical_number(s)
    if num is not None:
        return num
    if "\\" not in s:
        s = s.lower()
    return s or None


# --------------------------------------------------------------------------- equivalence
_DATE_LIKE = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|\d{1,2}:\d{2}(?::\d{2})?")


def _looks_mathematical(s: str) -> bool:
    """True when math-verify should compare it (a digit or a LaTeX command; plain words stay strings).

    math-verify parses plain words as products of symbols, so 'yajo' and 'yjao' would compare equal, and
    dates or times as arithmetic ('05/01/2021' as a quotient); those stay exact strings.
    """
    if _DATE_LIKE.fullmatch(s.strip()):
        return False
    return bool(re.search(r"\d|\\", s))


@lru_cache(maxsize=1)
def math_verify_available() -> bool:
    """True when the math-verify package can be imported."""
    try:
        import math_verify  # noqa: F401
    except ImportError:
        return False
    return True


def _timeout() -> int | None:
    """math-verify's signal-based timeout works only in the main thread; elsewhere run without one."""
    return 5 if threading.current_thread() is threading.main_thread() else None


@lru_cache(maxsize=65536)
def _mv_parse(s: str) -> object:
    from math_verify import parse

    text = s if s.startswith("$") or "\\boxed" in s else f"${s}$"
    try:
        return parse(text, parsing_timeout=_timeout())
    except Exception:  # math-verify raises assorted errors on odd input; treat as unparsed
        return []


_CANONICAL_NUMBER = re.compile(r"-?\d+(?:/\d+)?")


@lru_cache(maxsize=262144)
def _mv_equal(a: str, b: str) -> bool:
    if a != b and _CANONICAL_NUMBER.fullmatch(a) and _CANONICAL_NUMBER.fullmatch(b):
        return False  # two different canonical rationals (normalize_answer output) are never equal
    from math_verify import verify

    pa, pb = _mv_parse(a), _mv_parse(b)
    if not pa or not pb:
        return False
    try:
        return bool(verify(pa, pb, timeout_seconds=_timeout()))
    except Exception:  # as above
        return False


def answers_equivalent(a: str | None, b: str | None, *, normalizer: str = "math") -> bool:
    """True when two extracted answers fall in one voting class under ``normalizer``."""
    check_choice("normalizer", normalizer, NORMALISERS)
    if a is None or b is None:
        return False
    if normalizer == "none":
        return a == b
    na, nb = normalize_answer(a), normalize_answer(b)
    if na is None or nb is None:
        return False
    if na == nb:
        return True
    if (
        normalizer == "math"
        and math_verify_available()
        and _looks_mathematical(na)
        and _looks_mathematical(nb)
    ):
        return _mv_equal(na, nb)
    return False


def group_answers(answers: Sequence[str | None], *, normalizer: str = "math") -> list[str | None]:
    """The class label of each answer of ONE question (None stays None).

    With ``plain`` the label is the normalised string. With ``math`` distinct normalised strings are merged
    greedily, in order of frequency then first appearance, into the first class whose representative
    math-verify judges equal (a representative-based grouping, so the classes are well defined even where
    pairwise equivalence is not transitive). Labels are representatives' normalised strings.
    """
    check_choice("normalizer", normalizer, NORMALISERS)
    if normalizer == "none":
        return [None if _missing(a) else str(a) for a in answers]
    normed = [normalize_answer(a) for a in answers]
    if normalizer == "plain" or not math_verify_available():
        return normed
    freq: dict[str, int] = {}
    for s in normed:
        if s is not None:
            freq[s] = freq.get(s, 0) + 1
    order = sorted(freq, key=lambda s: -freq[s])  # stable: ties keep first appearance
    reps: list[str] = []
    label: dict[str, str] = {}
    for s in order:
        target = s
        if _looks_mathematical(s):
            for r in reps:
                if _looks_mathematical(r) and _mv_equal(r, s):
                    target = r
                    break
        if target == s:
            reps.append(s)
        label[s] = target
    return [None if s is None else label[s] for s in normed]


def grade(answer: str | None, gold: object, *, normalizer: str = "math") -> bool:
    """True when ``answer`` matches the gold answer (normalised equality, then math-verify if enabled)."""
    if answer is None or gold is None:
        return False
    golds = list(gold) if isinstance(gold, (list, tuple)) else [gold]
    return any(answers_equivalent(answer, str(g), normalizer=normalizer) for g in golds)


@dataclass(frozen=True)
class AnswerRecord:
    """How a loader turned text into voting classes, for the report."""

    extractor: str
    normalizer: str
    n_samples: int
    n_unparsed: int
    """Samples where the extractor found no answer (kept: wrong, casting no vote)."""
    n_merged: int = 0
    """Distinct normalised strings merged into another class by math-verify."""
    graded_against_gold: bool = False

    def note(self) -> str:
        """One sentence for the report."""
        norm = self.normalizer
        if norm == "math" and not math_verify_available():
            norm = "math (math-verify not installed: plain normaliser used)"
        text = (
            f"answers: extractor {self.extractor}, normaliser {norm}; {self.n_unparsed} of {self.n_samples} "
            f"samples had no parsable answer (kept as wrong, no vote)"
        )
        if self.n_merged:
            text += f"; {self.n_merged} answer strings merged into an equivalent class by math-verify"
        if self.graded_against_gold:
            text += "; correctness graded against the gold answer"
        return text


def classify(
    texts: Sequence[object],
    *,
    extractor: str = "auto",
    normalizer: str = "math",
) -> tuple[list[str | None], int, int]:
    """Extract and group the answers of ONE question: (labels, number unparsed, number of merged strings)."""
    raw = [extract_answer(t, extractor) for t in texts]
    labels = group_answers(raw, normalizer=normalizer)
    unparsed = sum(1 for r in raw if r is None)
    if normalizer == "none":
        merged = 0
    else:
        normed = {normalize_answer(r) for r in raw if r is not None}
        merged = len(normed - {None}) - len({lab for lab in labels if lab is not None})
    return labels, unparsed, merged
