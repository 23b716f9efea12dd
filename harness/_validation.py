"""One place for input validation: the error type and the checks whose messages echo the bad value.

Every user-facing error is a :class:`HarnessInputError` whose one-line message names the source (file),
the location (line or row), the column, what was found and what was expected. The CLI prints it and exits
with status 2; nothing below the CLI prints or exits.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from harness._terminal import clean

MAX_COUNT = 2**53
"""Largest sample count accepted (every whole number up to it is exact in float64; beyond, counts are garbage)."""

MAX_BOOTSTRAP = 100_000
"""Cap of ``--bootstrap``: 100,000 replicates put Monte Carlo error of a 95% percentile bound near 0.001 of the
bootstrap spread; more only allocates (replicates x questions x k floats)."""


class HarnessInputError(ValueError):
    """Bad input: says what failed, where (file, line/row, column) and how to fix it."""

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        line: int | None = None,
        row: int | None = None,
        column: str | None = None,
        fix: str | None = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.line = line
        self.row = row
        self.column = column
        self.fix = fix
        super().__init__(self._format())

    def _format(self) -> str:
        where = []
        if self.source is not None:
            where.append(str(self.source))
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        head = ", ".join(where)
        text = f"{head}: {self.problem}" if head else self.problem
        if self.fix:
            text += f" ({self.fix})"
        return clean(" ".join(text.split("\n")))

    def located(self, source: str) -> HarnessInputError:
        """The same error with the source file filled in (loaders add it on the way out)."""
        if self.source is not None:
            return self
        return HarnessInputError(
            self.problem, source=source, line=self.line, row=self.row, column=self.column, fix=self.fix
        )


def closest(name: str, options: Iterable[str]) -> str | None:
    """The closest of ``options`` to ``name`` (for 'did you mean' hints), or None."""
    opts = [str(o) for o in options]
    lower = {o.lower(): o for o in opts}
    if name.lower() in lower:
        return lower[name.lower()]
    match = difflib.get_close_matches(name, opts, n=1, cutoff=0.5)
    return match[0] if match else None


def require_columns(columns: Sequence[str], required: Iterable[str], *, source: str | None) -> None:
    """Raise naming the first missing column, the columns that exist and the closest match."""
    present = list(columns)
    for name in required:
        if name not in present:
            hint = closest(name, present)
            fix = f"columns present: {', '.join(map(str, present))}"
            if hint is not None:
                fix += f"; closest match: {hint!r} (map it with --{name.replace('_id', '').replace('_', '-')}-col)"
            raise HarnessInputError(f"missing required column {name!r}", source=source, fix=fix)


def check_choice(name: str, value: str, allowed: Sequence[str]) -> str:
    """Return ``value`` if it is one of ``allowed``; otherwise raise listing them."""
    if value not in allowed:
        raise HarnessInputError(
            f"{name}={value!r} is not one of {', '.join(map(repr, allowed))}",
            fix=f"use one of {', '.join(allowed)}",
        )
    return value


def check_ks(ks: Any, *, name: str = "k") -> npt.NDArray[np.int64]:
    """k values as a sorted unique int64 array, each a positive whole number."""
    arr = np.atleast_1d(np.asarray(ks))
    if arr.size == 0:
        raise HarnessInputError(f"{name} is empty", fix="give at least one positive whole number")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            bad = arr[~np.isfinite(arr) | (arr != np.round(arr))][0]
            raise HarnessInputError(f"{name}={bad!r} is not a whole number", fix="k counts samples")
    elif arr.dtype.kind not in "iu":
        raise HarnessInputError(f"{name} must be whole numbers, got {arr.dtype}")
    out = np.unique(arr.astype(np.int64))
    if out[0] < 1:
        raise HarnessInputError(f"{name}={int(out[0])} is not positive", fix="k starts at 1")
    return out


def _show(value: Any) -> str:
    """A cell for an error message: numpy scalars as plain Python values (``inf``, not ``np.float64(inf)``)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def check_counts(n: Any, c: Any, *, source: str | None = None) -> tuple[npt.NDArray[np.int64], ...]:
    """n and c as int64 arrays with 0 <= c <= n and n >= 1; errors name the first bad row."""
    n_arr = np.atleast_1d(np.asarray(n))
    c_arr = np.atleast_1d(np.asarray(c))
    if n_arr.shape != c_arr.shape:
        raise HarnessInputError(f"n has shape {n_arr.shape} but c has shape {c_arr.shape}", source=source)
    if n_arr.dtype == object or c_arr.dtype == object:  # e.g. Python ints beyond 2^64 from a text file
        with contextlib.suppress(TypeError, ValueError):
            n_arr, c_arr = n_arr.astype(float), c_arr.astype(float)
    for name, arr in (("n", n_arr), ("c", c_arr)):
        if arr.dtype.kind == "f":
            bad = ~np.isfinite(arr) | (arr != np.round(np.nan_to_num(arr)))
            if bad.any():
                i = int(np.argmax(bad))
                raise HarnessInputError(
                    f"{_show(arr[i])} is not a whole number", source=source, row=i, column=name,
                    fix="sample counts are whole numbers",
                )
        elif arr.dtype.kind not in "iub":
            raise HarnessInputError(f"expected whole numbers, got {arr.dtype}", source=source, column=name)
    for name, arr in (("n", n_arr), ("c", c_arr)):
        big = np.abs(arr.astype(float)) > MAX_COUNT
        if big.any():
            i = int(np.argmax(big))
            raise HarnessInputError(
                f"{_show(arr[i])} is larger than {MAX_COUNT:,} (2^53)", source=source, row=i, column=name,
                fix="a sample count this large is a corrupt or mis-mapped column",
            )
    n_i = n_arr.astype(np.int64)
    c_i = c_arr.astype(np.int64)
    if (n_i < 1).any():
        i = int(np.argmax(n_i < 1))
        raise HarnessInputError(
            f"a question with {int(n_i[i])} samples", source=source, row=i, column="n",
            fix="every question needs at least one sample; remove it or fix the count",
        )
    if ((c_i < 0) | (c_i > n_i)).any():
        i = int(np.argmax((c_i < 0) | (c_i > n_i)))
        raise HarnessInputError(
            f"c={int(c_i[i])} is outside 0..n={int(n_i[i])}", source=source, row=i, column="c",
            fix="the number of correct samples is between 0 and the number of samples",
        )
    return n_i, c_i


TRUE_STRINGS = frozenset({"true", "t", "yes", "y", "1", "1.0", "correct", "pass", "passed", "c"})
FALSE_STRINGS = frozenset({"false", "f", "no", "n", "0", "0.0", "incorrect", "fail", "failed", "i", ""})


def to_bool_array(values: Any, *, source: str | None, column: str, row_offset: int = 0) -> npt.NDArray[np.bool_]:
    """Boolean-like values (bool, 0/1, 'true'/'false', 'C'/'I', ...) as a bool array; anything else is an error."""
    arr = np.asarray(values, dtype=object) if not isinstance(values, np.ndarray) else values
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind in "iuf":
        ok = np.isin(arr, (0, 1))
        if not ok.all():
            i = int(np.argmax(~ok))
            raise HarnessInputError(
                f"correctness value {arr[i]!r} is not boolean-like", source=source, row=i + row_offset,
                column=column, fix="accepted: true/false, 1/0, yes/no, correct/incorrect, C/I",
            )
        return arr.astype(bool)
    out = np.empty(len(arr), dtype=bool)
    for i, v in enumerate(arr):
        if isinstance(v, (bool, np.bool_)):
            out[i] = bool(v)
            continue
        if isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) and v in (0, 1):
            out[i] = bool(v)
            continue
        s = str(v).strip().lower() if v is not None else None
        if s in TRUE_STRINGS:
            out[i] = True
        elif s in FALSE_STRINGS and s != "":
            out[i] = False
        else:
            raise HarnessInputError(
                f"correctness value {v!r} is not boolean-like", source=source, row=i + row_offset,
                column=column, fix="accepted: true/false, 1/0, yes/no, correct/incorrect, C/I",
            )
    return out


def check_scalar_ids(
    frame: Any, columns: Sequence[str], *, source: str | None, lines: Sequence[int] | None = None
) -> None:
    """Each cell of the id-like ``columns`` (question_id, sample_id, model) is a scalar, not a list or object.

    A JSON list or object as an id cannot be a dictionary key; silently stringified it would merge or split
    questions. The error names the row (and the line, when ``lines`` maps rows to source lines) and the column.
    """
    for col in columns:
        if col not in frame.columns:
            continue
        values = frame[col].to_numpy(object)
        for i, v in enumerate(values):
            if isinstance(v, (list, tuple, dict, set, np.ndarray)):
                kind = "object" if isinstance(v, dict) else "list"
                line = lines[i] if lines is not None and i < len(lines) else None
                raise HarnessInputError(
                    f"the {col.replace('_', ' ')} is a JSON {kind} ({clip(repr(v))}), not a string or number",
                    source=source, line=line, row=None if line is not None else i, column=col,
                    fix="ids must be plain strings or numbers; map another column with "
                    f"--{col.replace('_id', '').replace('_', '-')}-col",
                )


def clip(text: str, width: int = 60) -> str:
    """``text`` cut to ``width`` characters (with an ellipsis) for an error message."""
    return text if len(text) <= width else text[: width - 3] + "..."


# ------------------------------------------------------------------------------------ argparse types
# Each returns a function for ``add_argument(type=...)``: argparse calls it on the raw string and turns an
# ArgumentTypeError into "harness CMD: error: argument --opt: MESSAGE" (one line, exit status 2; see cli.py).
def whole_number(
    *, minimum: int | None = None, maximum: int | None = None, what: str = "a whole number"
) -> Callable[[str], int]:
    """An int in ``minimum..maximum``; the message echoes the value and states the range."""

    def parse(text: str) -> int:
        try:
            value = int(text.strip().replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{clip(text)!r} is not {what}") from None
        if minimum is not None and value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below the minimum {minimum} ({what})")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{value} is above the maximum {maximum:,} ({what})")
        return value

    parse.__name__ = "whole number"
    return parse


def positive_int(*, maximum: int | None = None, what: str = "a positive whole number") -> Callable[[str], int]:
    """A whole number >= 1 (optionally <= ``maximum``)."""
    return whole_number(minimum=1, maximum=maximum, what=what)


def bootstrap_replicates(text: str) -> int:
    """``--bootstrap``: 0 (no intervals) to :data:`MAX_BOOTSTRAP` replicates."""
    return whole_number(minimum=0, maximum=MAX_BOOTSTRAP, what="a number of bootstrap replicates, 0 to 100,000")(text)


def seed_value(text: str) -> int:
    """``--seed``: a whole number 0 .. 2^63 - 1 (numpy seeds are non-negative)."""
    return whole_number(minimum=0, maximum=2**63 - 1, what="a seed, a whole number 0 to 2^63-1")(text)


def comma_list(
    *, choices: Sequence[str] | None = None, what: str = "names"
) -> Callable[[str], str]:
    """A comma-separated list: at least one item, no empty items (``a,,b``), each one of ``choices`` if given.

    Returns the list as a normalised string (items stripped, repeats dropped), as the commands split it later.
    """

    def parse(text: str) -> str:
        items = [t.strip() for t in text.split(",")]
        if not text.strip() or any(not t for t in items):
            raise argparse.ArgumentTypeError(
                f"{clip(text)!r} has an empty item; give comma-separated {what} like a,b"
            )
        if choices is not None:
            for t in items:
                if t not in choices:
                    hint = closest(t, choices)
                    raise argparse.ArgumentTypeError(
                        f"unknown {what[:-1] if what.endswith('s') else what} {clip(t)!r}"
                        + (f" (did you mean {hint!r}?)" if hint else "")
                        + f"; choose from {', '.join(choices)}"
                    )
        return ",".join(dict.fromkeys(items))

    parse.__name__ = "list"
    return parse


def column_names(text: str) -> str:
    """A column name or a comma-separated composite (``--question-col a,b``): no empty part."""
    comma_list(what="column names")(text)
    return text
