"""Reading bytes into records with errors that name file, line, byte offset and the fix (no tracebacks).

Every reader here only reads; gzip is recognised by its magic bytes, not only by the ``.gz`` suffix.

Limits that protect the machine (each error names the limit and how to raise it):

* decompressed size: a gzip stream or an ``.eval`` zip member may inflate to at most
  :func:`max_decompressed_bytes` (default 1 GiB; environment variable ``HARNESS_MAX_DECOMPRESSED``, e.g. ``16G``);
  gzip is read in chunks, so a gzip bomb stops at the limit instead of filling memory;
* JSON nesting: deeper than the parser's recursion limit (:data:`MAX_JSON_DEPTH`, about 900 levels) is an
  error naming that limit instead of a ``RecursionError``;
* CSV/TSV: every row must have as many fields as the header (a short row is not padded with empty cells);
  a header naming a column twice is an error.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import sys
import zlib
from collections.abc import Iterable, Iterator
from typing import IO, Any

from harness._validation import HarnessInputError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"
DEFAULT_MAX_DECOMPRESSED = 1 << 30
MAX_ENV = "HARNESS_MAX_DECOMPRESSED"
MAX_JSON_DEPTH = sys.getrecursionlimit() - 100
_CHUNK = 16 << 20
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def max_decompressed_bytes() -> int:
    """The cap on decompressed bytes per gzip stream or zip member (``HARNESS_MAX_DECOMPRESSED``, default 1G)."""
    raw = os.environ.get(MAX_ENV, "").strip()
    if not raw:
        return DEFAULT_MAX_DECOMPRESSED
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)i?[bB]?", raw)
    if m is None:
        raise HarnessInputError(
            f"{MAX_ENV}={raw!r} is not a size", fix="give bytes or a size like 512M, 8G, 1T"
        )
    scale = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}[m.group(2).lower()]
    return int(float(m.group(1)) * scale)


def decompressed_too_large(path: str, limit: int, what: str = "the decompressed data") -> HarnessInputError:
    return HarnessInputError(
        f"{what} is larger than the limit of {limit:,} bytes (a compression bomb, or a very large log)",
        source=path,
        fix=f"if the file is genuine, raise the limit with the environment variable {MAX_ENV} (e.g. "
        f"{MAX_ENV}=16G)",
    )


def check_file(path: str) -> None:
    """The path exists, is a file and is not empty."""
    if not os.path.exists(path):
        raise HarnessInputError("no such file or directory", source=path, fix="check the path")
    if os.path.isdir(path):
        return
    if os.path.getsize(path) == 0:
        raise HarnessInputError(
            "the file is empty", source=path, fix="it holds no samples; give a file with data"
        )


def head_bytes(path: str, n: int = 8) -> bytes:
    with open(path, "rb") as fh:
        return fh.read(n)


def is_gzip(path: str) -> bool:
    return os.path.isfile(path) and head_bytes(path, 2) == GZIP_MAGIC


def open_binary(path: str) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzip."""
    check_file(path)
    if is_gzip(path):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb")


def _gzip_error(path: str, exc: BaseException) -> HarnessInputError:
    return HarnessInputError(
        f"the gzip stream is truncated or corrupt ({type(exc).__name__}: {exc})",
        source=path,
        fix="the file was cut short (an interrupted copy or download?); copy it again "
        "or gunzip what is there",
    )


def read_bytes(path: str) -> bytes:
    """All (decompressed) bytes of a file; gzip is inflated in chunks and stops at the decompressed-size limit."""
    limit = max_decompressed_bytes()
    try:
        with open_binary(path) as fh:
            if not is_gzip(path):
                data = fh.read()
            else:
                buf = bytearray()
                while chunk := fh.read(_CHUNK):
                    buf += chunk
                    if len(buf) > limit:
                        raise decompressed_too_large(path, limit)
                data = bytes(buf)
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise _gzip_error(path, exc) from None
    if not data.strip():
        raise HarnessInputError(
            "the file is empty", source=path, fix="it holds no samples; give a file with data"
        )
    return data


def decode_utf8(data: bytes, path: str, *, offset: int = 0, line: int | None = None) -> str:
    """UTF-8 text; bad bytes are an error naming the byte offset (in the decompressed stream)."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        bad = data[exc.start : exc.start + 4]
        if line is None:
            line = data.count(b"\n", 0, exc.start) + 1
        raise HarnessInputError(
            f"bytes that are not UTF-8 ({bad!r}) at byte offset {offset + exc.start}",
            source=path,
            line=line,
            fix="re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8)",
        ) from None


def read_text(path: str) -> str:
    """The whole file as UTF-8 text (gzip transparently)."""
    return decode_utf8(read_bytes(path), path)


def _deep_error(path: str, line: int | None) -> HarnessInputError:
    return HarnessInputError(
        f"JSON nested more than about {MAX_JSON_DEPTH} levels deep (the parser's nesting limit)",
        source=path,
        line=line,
        fix="no log format nests this deep; the file is damaged or not a log",
    )


def _surrogate_error(path: str, line: int | None, value: str) -> HarnessInputError:
    return HarnessInputError(
        f"a string with an unpaired UTF-16 surrogate escape ({value!r}) is not text",
        source=path,
        line=line,
        fix="the writer produced invalid Unicode; repair the string (\\uD800-\\uDFFF must come in pairs)",
    )


def _find_surrogate(obj: Any) -> str | None:
    """The first string in a parsed JSON value (keys included) that holds a lone surrogate, or None."""
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, str):
            try:
                x.encode("utf-8")
            except UnicodeEncodeError:
                return x
        elif isinstance(x, dict):
            stack.extend(x.keys())
            stack.extend(x.values())
        elif isinstance(x, list):
            stack.extend(x)
    return None


def parse_json(text: str, path: str, *, line: int | None = None) -> Any:
    """``json.loads`` with one-line errors: malformed JSON, nesting deeper than the parser allows, and strings
    holding lone surrogates (``"\\ud800"`` parses to a str no UTF-8 output can hold)."""
    try:
        obj = json.loads(text)
    except RecursionError:
        raise _deep_error(path, line) from None
    if _SURROGATE_ESCAPE.search(text):
        bad = _find_surrogate(obj)
        if bad is not None:
            raise _surrogate_error(path, line, bad)
    return obj


def iter_jsonl(path: str, *, require_object: bool = True) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON) for each non-blank line; errors name the line and byte offset.

    Lines are read one at a time (memory stays bounded by the longest line) and the decompressed total stops at
    :func:`max_decompressed_bytes`.
    """
    offset = 0
    n = 0
    limit = max_decompressed_bytes()
    try:
        with open_binary(path) as fh:
            lineno = 0
            while raw := fh.readline(limit - offset + 1):
                lineno += 1
                if offset + len(raw) > limit:
                    raise decompressed_too_large(path, limit, "the file (decompressed)")
                text = decode_utf8(raw, path, offset=offset, line=lineno)
                offset += len(raw)
                if not text.strip():
                    continue
                try:
                    obj = parse_json(text, path, line=lineno)
                except json.JSONDecodeError as exc:
                    raise HarnessInputError(
                        f"malformed JSON ({exc.msg} at character {exc.colno})",
                        source=path,
                        line=lineno,
                        fix="each line must be one complete JSON object; repair or delete this line",
                    ) from None
                if require_object and not isinstance(obj, dict):
                    raise HarnessInputError(
                        f"expected a JSON object, found {type(obj).__name__}",
                        source=path,
                        line=lineno,
                        fix="each line must be one JSON object {...}",
                    )
                n += 1
                yield lineno, obj
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise _gzip_error(path, exc) from None
    if n == 0:
        raise HarnessInputError("the file holds no JSON records", source=path, fix="it holds no samples")


def read_json(path: str) -> Any:
    """One JSON document (gzip transparently); errors name line and column."""
    text = read_text(path)
    try:
        return parse_json(text, path)
    except json.JSONDecodeError as exc:
        raise HarnessInputError(
            f"malformed JSON ({exc.msg} at character {exc.colno})",
            source=path,
            line=exc.lineno,
            fix="the file must be one JSON document; was it cut short?",
        ) from None


def parquet_file(path: str) -> Any:
    """A ``pyarrow.parquet.ParquetFile``; a truncated or non-parquet file is a clear error."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    check_file(path)
    try:
        with open(path, "rb") as fh:
            fh.seek(-4, io.SEEK_END)
            tail = fh.read(4)
    except OSError:
        tail = b""
    if head_bytes(path, 4) != PARQUET_MAGIC or tail != PARQUET_MAGIC:
        raise HarnessInputError(
            "not a complete Parquet file (the PAR1 magic bytes are missing at the start or end: truncated?)",
            source=path,
            fix="copy the file again; a parquet file ends with its footer",
        )
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise HarnessInputError(
            f"cannot read the Parquet footer ({exc})",
            source=path,
            fix="the file is damaged; copy it again",
        ) from None


def read_parquet(path: str, columns: list[str] | None = None) -> Any:
    """A pandas DataFrame from a parquet file; read errors (corrupt pages) are clear errors."""
    import pyarrow as pa

    pf = parquet_file(path)
    damaged = "the file is damaged; copy it again"
    try:
        table = pf.read(columns=columns)
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError, UnicodeDecodeError) as exc:
        raise HarnessInputError(f"cannot read the Parquet data ({exc})", source=path, fix=damaged) from None
    try:
        return table.to_pandas()
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise HarnessInputError(f"cannot read the Parquet data ({exc})", source=path, fix=damaged) from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        # pyarrow rebuilds the pandas index and dtypes from the schema's b"pandas" JSON; damaged JSON (not JSON,
        # or JSON of the wrong shape) raises from inside pyarrow. Blame the metadata only if the data converts
        # with the metadata removed; otherwise the error is not understood and propagates as it is.
        table.replace_schema_metadata(None).to_pandas()
        raise HarnessInputError(
            f"the Parquet file's pandas metadata is damaged ({type(exc).__name__}: {exc})", source=path, fix=damaged
        ) from None


def _lossless_column(values: list[str | None]) -> list[Any]:
    """Cells of one CSV column as ints or floats when every non-empty cell reads back as the same text, else as
    strings: ``007`` and ``7`` stay two ids, ``NA``/``None``/``nan`` stay strings, and an empty cell is missing.
    """
    present = [v for v in values if v is not None]
    for conv in (int, float):
        try:
            parsed = [conv(v) for v in present]
        except ValueError:
            continue
        text = [str(x) if conv is int else repr(x) for x in parsed]
        if text == present and (conv is int or all(x == x and abs(x) != float("inf") for x in parsed)):
            it = iter(parsed)
            return [None if v is None else next(it) for v in values]
    return list(values)


def read_delimited(text: str, path: str, *, sep: str) -> Any:
    """A CSV/TSV text as a pandas DataFrame (RFC 4180 quoting; ``sep`` between fields).

    Stricter than ``pandas.read_csv``: a row with fewer or more fields than the header is an error naming its
    line (pandas pads short rows with empty cells), a column named twice in the header is an error, and values
    keep their text unless every cell of the column reads back as the same number (so ids like ``007``,
    ``1.0`` or ``NA`` are not changed). Empty cells are missing values. Blank lines are skipped.
    """
    import pandas as pd

    rows = list(_delimited_rows(io.StringIO(text, newline=""), path, sep))
    if not rows:
        raise HarnessInputError("the file is empty", source=path, fix="it holds no samples")
    header, rows = rows[0], rows[1:]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in header]
    data = {
        name: _lossless_column([v if v != "" else None for v in col]) for name, col in zip(header, columns, strict=True)
    }
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in data.items()}, columns=header).infer_objects()


def _delimited_rows(lines: Iterable[str], path: str, sep: str) -> Iterator[list[str]]:
    """The fields of each non-blank row of CSV/TSV ``lines``, the header first (a BOM dropped, unnamed columns
    named); a column named twice, a row whose field count differs from the header's, or a quoting error is an
    error naming its line."""
    reader = csv.reader(lines, delimiter=sep, strict=False)
    kind = "TSV" if sep == "\t" else "CSV"
    header: list[str] | None = None
    try:
        for fields in reader:
            if not fields:
                continue
            if header is None:
                header = [f if f else f"Unnamed: {i}" for i, f in enumerate(fields)]
                if header and header[0].startswith("\ufeff"):
                    header[0] = header[0][1:]
                seen: set[str] = set()
                for name in header:
                    if name in seen:
                        raise HarnessInputError(
                            f"the header names column {name!r} twice", source=path, line=1,
                            fix="rename one of them so that every column has its own name",
                        )
                    seen.add(name)
                yield header
                continue
            if len(fields) != len(header):
                raise HarnessInputError(
                    f"{len(fields)} fields where the header has {len(header)}",
                    source=path,
                    line=reader.line_num,
                    fix="every line needs the same number of fields as the header; quote fields that contain "
                    + ("tabs" if sep == "\t" else "commas") + " or line breaks",
                )
            yield fields
    except csv.Error as exc:
        raise HarnessInputError(
            f"cannot parse the {kind} ({exc})", source=path, line=reader.line_num,
            fix="repair or delete this line",
        ) from None


def check_delimited(path: str, *, sep: str) -> None:
    """Read a CSV/TSV file (gzip transparently) row by row, in bounded memory, and raise the error
    :func:`read_delimited` would raise for its first bad line, bad bytes or a cut-short gzip stream."""
    def lines(fh: IO[bytes]) -> Iterator[str]:  # decoded one line at a time: bad bytes named by offset and line
        offset = 0
        for number, raw in enumerate(fh, start=1):
            yield decode_utf8(raw, path, offset=offset, line=number)
            offset += len(raw)

    try:
        with open_binary(path) as fh:
            for _ in _delimited_rows(lines(fh), path, sep):
                pass
    except (EOFError, gzip.BadGzipFile, zlib.error) as exc:
        raise _gzip_error(path, exc) from None


def read_zip_member(zf: Any, name: str, path: str) -> bytes:
    """One member of an open ``zipfile.ZipFile``, refused before reading when its size is above the limit.

    ``zipfile`` stops inflating at the size the member declares (and fails its CRC check if the data runs
    on), so checking the declared size bounds the memory used.
    """
    limit = max_decompressed_bytes()
    size = zf.getinfo(name).file_size
    if size > limit:
        raise decompressed_too_large(path, limit, f"member {name} ({size:,} bytes decompressed)")
    try:
        return bytes(zf.read(name))
    except zlib.error as exc:
        raise HarnessInputError(
            f"cannot read member {name} (corrupt deflate data: {exc})",
            source=path,
            fix="the file is truncated or damaged; copy it again",
        ) from None
