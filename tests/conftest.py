"""Shared fixtures: the real data folder (read only, never copied) and small helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Property tests draw the same examples on every run, so CI is reproducible; run with
# HYPOTHESIS_PROFILE=explore to draw fresh examples.
settings.register_profile("repeatable", derandomize=True)
settings.register_profile("explore", derandomize=False, max_examples=500)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

_DEFAULT = Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
SHARED_DATA = Path(os.environ.get("HARNESS_SHARED_DATA", _DEFAULT))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (the real logged outputs); tests using it skip where the folder is absent."""
    path = SHARED_DATA.resolve()
    if not path.is_dir():
        pytest.skip(f"real data folder {path} is absent (CI always has it; set HARNESS_SHARED_DATA to point at it)")
    return path
