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

import ast
import cmath
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
    LaTeX commands and without identifiers or calls (``camelCase``, ``snake_case``, ``f(x)``: case may
    matter); leaves code and Python literals (:func:`looks_like_code`) exact; maps numbers (``72``, ``72.0``,
    ``$72``, ``1,000``, ``\frac{1}{2}``, ``0.5``, ``50\%`` kept as 50) to one
    canonical form (a reduced fraction or an integer).
    """
    if _missing(answer):
        return None
    s = str(answer).strip()
    if looks_like_code(s):
        return s or None  # code and Python literals: exact, case kept
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
    if "\\" not in s and not _CASE_MATTERS.search(s):
        s = s.lower()
    return s or None


_CODE = re.compile(
    r"[\n'\"`]|==|!=|<=|>=|->|=>|:=|\b(?:def|return|lambda|import|None|True|False|print|self)\b|^\s*[\[{]"
)
_CASE_MATTERS = re.compile(r"[_\[\]{}<>|#@]|[a-z][A-Z]|\w\(")


def looks_like_code(s: str) -> bool:
    """True for code, Python literals and strings (quotes, a newline, comparison or arrow operators, Python
    keywords, a leading ``[`` or ``{``): they are compared exactly, case kept, and never by math-verify."""
    return bool(_CODE.search(s))


# --------------------------------------------------------------------------- equivalence
_DATE_LIKE = re.compile(r"\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}|\d{1,2}:\d{2}(?::\d{2})?")
_LATEX_COMMAND = re.compile(r"\\[a-zA-Z]+")
# sympy can run for minutes on towers of powers and huge factorials; math-verify's own timeout is a SIGALRM
# that only works in the main thread, so such strings are never handed to it (they stay exact strings)
_SYMPY_BOMB = re.compile(r"\^\s*\{[^}]*\^|\^\s*\{?\s*\d{3,}|\d{3,}\s*!|\\underbrace|\\cdots|\\ldots")
_MAX_MATH_LEN = 200


def reads_as_math(raw: str | None, *, boxed: bool = False) -> bool:
    r"""True when an answer reads as mathematics, so math-verify may merge it with an equal expression.

    Mathematics is: a number (``72``, ``1,000``, ``0.5``, ``3/4``), a string with a LaTeX command or ``$``
    delimiters, or anything the extractor took from ``\boxed{}`` (``boxed=True``). Never: code or Python
    literals (quotes, a newline, ``==``, keywords), plain words (math-verify reads ``yajo`` as the product
    y*a*j*o), dates and times, bare expressions such as ``(3+4)*5`` that a grader may judge by their value
    (Countdown, function inputs), answers longer than 200 characters, towers of powers or huge factorials.
    """
    if raw is None:
        return False
    s = str(raw).strip()
    if not s or len(s) > _MAX_MATH_LEN or looks_like_code(s) or _SYMPY_BOMB.search(s):
        return False
    if _DATE_LIKE.fullmatch(s):
        return False
    if boxed:
        return True
    if _canonical_number(s.replace("$", "").replace("\\%", "").replace("%", "").strip()) is not None:
        return True
    return bool(_LATEX_COMMAND.search(s)) or (s.startswith("$") and s.endswith("$") and len(s) > 2)


def _looks_mathematical(s: str) -> bool:
    """A normalised label math-verify may compare (kept for the callers that pass labels, not raws)."""
    return reads_as_math(s)


@lru_cache(maxsize=1)
def math_verify_available() -> bool:
    """True when the math-verify package can be imported (a main dependency since 0.1)."""
    try:
        import math_verify  # noqa: F401
    except ImportError:
        return False
    return True


def _timeout() -> int | None:
    """math-verify's signal-based timeout works only in the main thread; elsewhere run without one (the inputs
    are then bounded by :func:`reads_as_math`: length and no towers of powers)."""
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


# ---- cheap numeric fingerprints: math-verify is only asked about pairs whose fingerprints agree
_FP_FRAC = re.compile(r"\\frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_FP_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_FP_TOKEN = re.compile(r"sqrt|pi|[a-z]|\d+\.?\d*|\.\d+|\*\*|[-+*/()]")
_FP_END = re.compile(r"[a-z]|pi|\d+\.?\d*|\.\d+|\)")
_FP_START = re.compile(r"[a-z]|pi|sqrt|\d+\.?\d*|\.\d+|\(")


def _fp_eval(node: ast.AST, env: dict[str, complex]) -> complex:
    """Evaluate a whitelisted arithmetic AST (numbers, + - * / **, sqrt, pi, one-letter variables at fixed probe
    values in ``env``); anything else raises."""
    if isinstance(node, ast.Expression):
        return _fp_eval(node.body, env)
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return complex(node.value)
    if isinstance(node, ast.Name) and node.id == "pi":
        return complex(cmath.pi)
    if isinstance(node, ast.Name) and node.id in env:
        return env[node.id]
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        v = _fp_eval(node.operand, env)
        return -v if isinstance(node.op, ast.USub) else v
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "sqrt" and node.args:
        return cmath.sqrt(_fp_eval(node.args[0], env))
    if isinstance(node, ast.BinOp):
        a, b = _fp_eval(node.left, env), _fp_eval(node.right, env)
        if isinstance(node.op, ast.Add):
            return a + b
        if isinstance(node.op, ast.Sub):
            return a - b
        if isinstance(node.op, ast.Mult):
            return a * b
        if isinstance(node.op, ast.Div):
            return a / b
        if isinstance(node.op, ast.Pow) and abs(b) <= 64 and abs(a) <= 1e6:
            return a**b
    raise ValueError("not cheap arithmetic")


def _cheap_value(s: str) -> complex | None:
    r"""The value of simple LaTeX arithmetic (``2\sqrt{3}``, ``\frac{\pi}{4}``, ``3x^{2}-1``) without sympy;
    one-letter variables take the probe values :func:`_sympy_key` gives them (sorted, ``_PROBE[i] + i``)."""
    t = s.replace("\\pi", " pi ").replace("\\cdot", "*").replace("\\times", "*").replace("\\left", "")
    t = t.replace("\\right", "").replace("dfrac", "frac").replace("tfrac", "frac").replace("$", "")
    for _ in range(8):
        u = _FP_SQRT.sub(r" sqrt((\1)) ", _FP_FRAC.sub(r" ((\1)/(\2)) ", t))
        if u == t:
            break
        t = u
    t = t.replace("{", "(").replace("}", ")").replace("^", "**").replace(" ", "")
    if "\\" in t or not t:
        return None
    tokens = _FP_TOKEN.findall(t)
    if "".join(tokens) != t:
        return None
    letters = sorted({x for x in tokens if len(x) == 1 and x.isalpha()})
    if {"e", "i"} & set(letters):  # sympy reads them as constants; leave them to it
        return None
    env = {x: complex(_PROBE[i % len(_PROBE)] + i) for i, x in enumerate(letters)}
    parts: list[str] = []
    for tok in tokens:
        if parts and _FP_END.fullmatch(parts[-1]) and _FP_START.fullmatch(tok):
            parts.append("*")
        parts.append(tok)
    try:
        return _fp_eval(ast.parse("".join(parts), mode="eval"), env)
    except (SyntaxError, ValueError, ZeroDivisionError, OverflowError, TypeError, RecursionError):
        return None


def _value_key(v: complex) -> tuple[object, ...]:
    """A bucket key for a numeric value: 9 significant digits of its real and imaginary parts."""
    if not (cmath.isfinite(v)):
        return ("nonfinite",)
    re_, im = v.real, v.imag
    if abs(im) <= 1e-12 * max(1.0, abs(re_)):
        im = 0.0
    return ("num", float(f"{re_:.9g}") + 0.0, float(f"{im:.9g}") + 0.0)


_PROBE = (0.5772156649, 1.4142135623, 2.7182818284, 0.6931471805, 1.2020569031, 3.1415926535)


def _sympy_key(s: str) -> tuple[object, ...] | None:
    """The fingerprint of a string math-verify parses: its value (free symbols set to fixed probe values),
    else the kind of object (interval, set, tuple, equation), else None (unparsed: never merged)."""
    parsed = _mv_parse(s)
    if not isinstance(parsed, list) or not parsed:
        return None
    expr = parsed[0]
    try:
        import sympy

        if isinstance(expr, sympy.Expr):
            syms = sorted(expr.free_symbols, key=str)
            if syms:
                expr = expr.subs({x: _PROBE[i % len(_PROBE)] + i for i, x in enumerate(syms)})
            return _value_key(complex(expr.evalf(15)))
    except Exception:  # sympy raises assorted errors on odd objects; fall back to the kind
        pass
    return ("kind", type(expr).__name__)


def _fingerprint(s: str) -> tuple[object, ...] | None:
    """A cheap key such that math-verify-equal strings (very nearly always) share it."""
    if _CANONICAL_NUMBER.fullmatch(s):
        return _value_key(complex(Fraction(s)))
    v = _cheap_value(s)
    if v is not None:
        return _value_key(v)
    return _sympy_key(s)


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
    if normalizer == "math" and math_verify_available() and reads_as_math(a) and reads_as_math(b):
        return _mv_equal(na, nb)
    return False


def _math_merge(
    normed: Sequence[str | None], eligible: Sequence[bool], weights: Sequence[int] | None = None
) -> dict[str, str]:
    """label of each distinct normalised string after math-verify merging within fingerprint buckets.

    Distinct strings are visited in order of frequency then first appearance; each joins the first earlier
    representative of its bucket that math-verify judges equal (a representative-based grouping, so classes
    are well defined where pairwise equivalence is not transitive). Only strings that read as mathematics
    (``eligible``, all of their raw spellings) take part; the rest keep their own class.
    """
    freq: dict[str, int] = {}
    ok: dict[str, bool] = {}
    for i, (s, e) in enumerate(zip(normed, eligible, strict=True)):
        if s is not None:
            freq[s] = freq.get(s, 0) + (1 if weights is None else int(weights[i]))
            ok[s] = ok.get(s, True) and e
    order = sorted(freq, key=lambda s: -freq[s])  # stable: ties keep first appearance
    label = {s: s for s in order}
    candidates = [s for s in order if ok[s]]
    if len(candidates) < 2:
        return label
    buckets: dict[tuple[object, ...], list[str]] = {}
    for s in candidates:
        key = _fingerprint(s)
        if key is None:
            continue
        reps = buckets.setdefault(key, [])
        for r in reps:
            if _mv_equal(r, s):
                label[s] = r
                break
        else:
            reps.append(s)
    return label


def group_answers(
    answers: Sequence[str | None],
    *,
    normalizer: str = "math",
    math_ok: Sequence[bool] | None = None,
    weights: Sequence[int] | None = None,
) -> list[str | None]:
    """The class label of each answer of ONE question (None stays None).

    ``weights`` (default 1 each) is the number of samples each entry stands for, so a list of distinct answers
    with their sample counts groups exactly as the full list of samples would.

    With ``none`` the label is the raw string; with ``plain`` the normalised string. With ``math`` distinct
    normalised strings that read as mathematics (``math_ok``, default :func:`reads_as_math` of each raw
    answer) are merged when math-verify judges them equal; it is asked only about strings whose cheap numeric
    fingerprints agree (canonical rational, simple LaTeX arithmetic evaluated without sympy, else the parsed
    value with free symbols at fixed probe values), so a question with m distinct answers costs O(m)
    fingerprints, not O(m^2) math-verify calls. Labels are representatives' normalised strings.
    """
    check_choice("normalizer", normalizer, NORMALISERS)
    if normalizer == "none":
        return [None if _missing(a) else str(a) for a in answers]
    normed = [normalize_answer(a) for a in answers]
    if normalizer == "plain" or not math_verify_available():
        return normed
    if math_ok is None:
        math_ok = [not _missing(a) and reads_as_math(str(a)) for a in answers]
    label = _math_merge(normed, math_ok, weights)
    return [None if s is None else label[s] for s in normed]


@dataclass(frozen=True)
class MergeConflict:
    """Two raw answers of one question that the normaliser would put in one class but the log grades
    differently; the question keeps its raw (exact-string) classes instead."""

    right: str
    wrong: str
    option: str
    """The normaliser under which this pair stays apart (``plain`` when math-verify merged it, else ``none``)."""


def group_graded(
    answers: Sequence[str | None],
    correct: Sequence[bool],
    *,
    normalizer: str = "math",
    math_ok: Sequence[bool] | None = None,
    weights: Sequence[int] | None = None,
) -> tuple[list[str | None], MergeConflict | None]:
    """:func:`group_answers` for ONE question whose samples the log graded, refusing merges across grades.

    Classes are formed by the normaliser alone (identically for right and wrong answers); the grades are used
    only to refuse: when a class would hold raw answers graded differently, the whole question keeps its raw
    classes and the first such pair is returned. Raw answers graded both ways are left to the caller (the
    input contradicts itself).
    """
    labels = group_answers(answers, normalizer=normalizer, math_ok=math_ok, weights=weights)
    if normalizer == "none":
        return labels, None
    seen: dict[str, tuple[str | None, str | None]] = {}
    for a, lab, c in zip(answers, labels, correct, strict=True):
        if lab is None or _missing(a):
            continue
        right, wrong = seen.get(lab, (None, None))
        if c and right is None:
            right = str(a)
        elif not c and wrong is None:
            wrong = str(a)
        seen[lab] = (right, wrong)
        if right is not None and wrong is not None and right != wrong:
            option = "none"
            if normalizer == "math" and normalize_answer(right) != normalize_answer(wrong):
                option = "plain"
            raw = group_answers(answers, normalizer="none")
            return raw, MergeConflict(right=right, wrong=wrong, option=option)
    return labels, None


def _gradable(s: str) -> bool:
    """Grading against a gold answer may ask math-verify about any short non-code string with a digit or a LaTeX
    command and no words (as the MATH graders do: ``1+x^2`` matches a gold ``x^2+1``), unlike the forming of
    voting classes. Free text is excluded: math-verify would pull a number out of it."""
    t = s.strip()
    return (
        bool(re.search(r"\d|\\", t))
        and len(t) <= _MAX_MATH_LEN
        and not looks_like_code(t)
        and not _SYMPY_BOMB.search(t)
        and not _DATE_LIKE.fullmatch(t)
        and not re.search(r"[A-Za-z]{2,}", _LATEX_COMMAND.sub(" ", t))  # free text: math-verify would pick a number
    )


def grade(answer: str | None, gold: object, *, normalizer: str = "math") -> bool:
    """True when ``answer`` matches the gold answer (normalised equality, then math-verify if enabled).

    Unlike :func:`answers_equivalent` (two answers in one voting class), grading may compare any expression
    with a digit or LaTeX by math-verify (:func:`_gradable`); answers graded right are separate classes when
    they are not the same class, which the counts allow (several correct classes)."""
    if answer is None or gold is None:
        return False
    golds = list(gold) if isinstance(gold, (list, tuple)) else [gold]
    for g in golds:
        if answers_equivalent(answer, str(g), normalizer=normalizer):
            return True
        if normalizer == "math" and math_verify_available() and _gradable(answer) and _gradable(str(g)):
            na, ng = normalize_answer(answer), normalize_answer(str(g))
            if na is not None and ng is not None and _mv_equal(na, ng):
                return True
    return False


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
    n_conflicts: int = 0
    """Questions that keep exact answer strings because the normaliser would merge differently graded ones."""
    conflict_example: str | None = None

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
        if self.n_conflicts:
            text += (
                f"; {self.n_conflicts} question(s) keep exact answer strings because the normaliser would merge "
                f"answers the log grades differently (e.g. {self.conflict_example})"
            )
        return text


def conflict_warning(n_questions: int, example: str) -> str:
    """The warning (and report note) for questions whose merges were refused because the log grades differ."""
    return (
        f"warning: in {n_questions} question(s) the normaliser would merge answers that the log grades "
        f"differently, so those questions keep their exact answer strings as classes (e.g. {example})"
    )


@dataclass(frozen=True)
class Grouping:
    """The answer classes of ONE question (see :func:`classify_graded`)."""

    labels: list[str | None]
    n_unparsed: int
    n_merged: int
    conflict: MergeConflict | None = None


def classify_graded(
    texts: Sequence[object],
    correct: Sequence[bool] | None = None,
    *,
    extractor: str = "auto",
    normalizer: str = "math",
    weights: Sequence[int] | None = None,
) -> Grouping:
    r"""Extract and group the answers of ONE question; with the log's grades, merges across grades are refused.

    An answer taken from ``oxed{}`` reads as mathematics whatever its content (see :func:`reads_as_math`).
    """
    raw = [extract_answer(t, extractor) for t in texts]
    boxed = extractor == "boxed"
    math_ok = [
        r is not None
        and reads_as_math(r, boxed=boxed or (extractor == "auto" and extract_boxed(str(t)) is not None))
        for r, t in zip(raw, texts, strict=True)
    ]
    conflict = None
    if correct is None:
        labels = group_answers(raw, normalizer=normalizer, math_ok=math_ok, weights=weights)
    else:
        labels, conflict = group_graded(raw, correct, normalizer=normalizer, math_ok=math_ok, weights=weights)
    unparsed = sum(1 for r in raw if r is None)
    merged = 0
    if normalizer != "none" and conflict is None:
        normed = {normalize_answer(r) for r in raw if r is not None}
        merged = len(normed - {None}) - len({lab for lab in labels if lab is not None})
    return Grouping(labels=labels, n_unparsed=unparsed, n_merged=merged, conflict=conflict)


def classify(
    texts: Sequence[object],
    *,
    extractor: str = "auto",
    normalizer: str = "math",
) -> tuple[list[str | None], int, int]:
    """Extract and group the answers of ONE question: (labels, number unparsed, number of merged strings)."""
    g = classify_graded(texts, extractor=extractor, normalizer=normalizer)
    return g.labels, g.n_unparsed, g.n_merged
