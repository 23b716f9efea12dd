"""Reading bytes into records with errors that name file, line, byte offset and the fix (no tracebacks).

Every reader here only reads; gzip is recognised by its magic bytes, not only by the ``.gz`` suffix.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import zlib
from collections.abc import Iterator
from typing import IO, Any

from harness._validation import HarnessInputError

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGIC = b"PK\x03\x04"
PARQUET_MAGIC = b"PAR1"


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
    """All (decompressed) bytes of a file."""
    try:
        with open_binary(path) as fh:
            data = fh.read()
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


def iter_jsonl(path: str, *, require_object: bool = True) -> Iterator[tuple[int, Any]]:
    """(line number, parsed JSON) for each non-blank line; errors name the line and byte offset."""
    offset = 0
    n = 0
    try:
        with open_binary(path) as fh:
            for lineno, raw in enumerate(fh, start=1):
                text = decode_utf8(raw, path, offset=offset, line=lineno)
                offset += len(raw)
                if not text.strip():
                    continue
                try:
                    obj = json.loads(text)
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
        return json.loads(text)
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
    try:
        return pf.read(columns=columns).to_pandas()
    except (pa.ArrowInvalid, pa.ArrowIOError, OSError) as exc:
        raise HarnessInputError(
            f"cannot read the Parquet data ({exc})",
            source=path,
            fix="the file is damaged; copy it again",
        ) from None
