"""Atomic file writes for every output: a temporary file in the same folder, then :func:`os.replace`.

A reader never sees a half-written file, and an interrupted run leaves the old file (or none) in place.
"""

from __future__ import annotations

import os
import tempfile

from harness._validation import HarnessInputError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise HarnessInputError("the output folder does not exist", source=path, fix="create it or choose another")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix="-" + os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text_atomic(path: str, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (newlines as given)."""
    write_bytes_atomic(path, text.encode("utf-8"))
