"""Atomic file writes for every output: a temporary file in the same folder, then :func:`os.replace`.

A reader never sees a half-written file, and an interrupted run leaves the old file (or none) in place (a killed
run can leave a ``.tmp-*`` file, never a truncated file under the final name). A folder that cannot be written
(read only, full disk, a path through a file) is a one-line :class:`HarnessInputError` naming the path and the
system's reason. :func:`lock_folder` keeps two runs from writing into the same folder at once.
"""

from __future__ import annotations

import csv
import errno
import fcntl
import os
import tempfile
from typing import Any

from harness._validation import HarnessInputError


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_error(path: str, exc: OSError) -> HarnessInputError:
    """The one-line error for an output that cannot be written (the reason from the system, and the fix)."""
    reason = exc.strerror or type(exc).__name__
    fix = {
        errno.ENOSPC: "free space on the disk or choose another --out",
        errno.EDQUOT: "free space (disk quota) or choose another --out",
        errno.EACCES: "choose a folder you can write to (--out)",
        errno.EPERM: "choose a folder you can write to (--out)",
        errno.EROFS: "the file system is read only; choose another --out",
        errno.ENOTDIR: "a part of the path is a file, not a folder; choose another --out",
    }.get(exc.errno or 0, "choose another --out")
    return HarnessInputError(f"cannot write the output ({reason})", source=path, fix=fix)


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and an atomic rename."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    if not os.path.isdir(folder):
        raise HarnessInputError("the output folder does not exist", source=path, fix="create it or choose another")
    try:
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix="-" + os.path.basename(path)[:100])
    except OSError as exc:
        raise write_error(path, exc) from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise write_error(path, exc) from None
        raise


_LOCKS: dict[str, int] = {}


def lock_folder(folder: str) -> None:
    """Hold an exclusive ``flock`` on ``folder`` until :func:`unlock_folder` or the end of the process.

    A second run writing into the same folder gets a one-line error instead of interleaving its files with
    this run's. The lock is on the folder itself (no lock file is left behind) and the kernel drops it when the
    process ends, however it ends. Taking it again in the same process is a no-op.
    """
    key = os.path.realpath(folder)
    if key in _LOCKS:
        return
    try:
        fd = os.open(key, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise write_error(folder, exc) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        raise HarnessInputError(
            "another harness run is writing into this folder",
            source=folder,
            fix="wait for it to finish or choose another --out",
        ) from None
    _LOCKS[key] = fd


def unlock_folder(folder: str | None = None) -> None:
    """Release the lock on ``folder`` (all locks this process holds when None)."""
    keys = list(_LOCKS) if folder is None else [os.path.realpath(folder)]
    for key in keys:
        fd = _LOCKS.pop(key, None)
        if fd is not None:
            os.close(fd)  # closing the descriptor releases the flock


def write_text_atomic(path: str, text: str) -> None:
    """Write UTF-8 ``text`` to ``path`` atomically (newlines as given).

    A lone surrogate (only possible from a file name that is not UTF-8; loaders refuse them in data) is written
    as its backslash escape rather than failing the whole run.
    """
    write_bytes_atomic(path, text.encode("utf-8", errors="backslashreplace"))


def frame_to_csv(frame: Any) -> str:
    """A table as CSV text that reads back to the same table (``pandas.read_csv``, ``csv.reader``).

    Minimal quoting, as pandas writes it, except that a cell holding a carriage return is quoted too (pandas
    quotes ``\n`` but not a bare ``\r``, which readers take as a line end). Numbers are written unquoted.
    """
    has_cr = any(
        frame[c].map(lambda v: isinstance(v, str) and "\r" in v).any()
        for c in frame.columns
        if getattr(frame[c].dtype, "kind", "O") not in "iufcbmM"
    ) or any("\r" in str(c) for c in frame.columns)
    if not has_cr:
        return str(frame.to_csv(index=False, lineterminator="\n"))
    return str(frame.to_csv(index=False, lineterminator="\n", quoting=csv.QUOTE_NONNUMERIC))
