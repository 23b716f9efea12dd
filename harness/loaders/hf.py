"""Hugging Face datasets: ``hf:ORG/NAME[:CONFIG][@SPLIT]``, a local dataset directory, or local data files.

Read with ``datasets.load_dataset`` (``datasets.load_from_disk`` for a ``save_to_disk`` directory, recognised
by its ``state.json``). Remote code is never run: datasets >= 4 no longer executes dataset scripts, and with
older versions ``trust_remote_code=False`` is passed. The split defaults to the only split (several splits
without ``@SPLIT`` is an error listing them). Rows are then read as list-valued (:mod:`harness.loaders.lists`:
monkey_business ``samples``/``is_corrects``/``gt_answer``, search-and-learn ``completions``/``scores``/
``completion_tokens``/``answer``) or, without list columns, as a generic long table.
"""

from __future__ import annotations

import inspect
import logging
import os
import tempfile
from typing import Any

import pandas as pd

from harness._validation import HarnessInputError
from harness.loaders._base import ColumnMap, Loaded, LoadOptions


def parse_hub_id(source: str) -> tuple[str, str | None, str | None]:
    """('ORG/NAME', config, split) from 'hf:ORG/NAME[:CONFIG][@SPLIT]' (or a local path after 'hf:')."""
    spec = source.removeprefix("hf:")
    split = None
    if "@" in spec:
        spec, split = spec.rsplit("@", 1)
    config = None
    if ":" in spec and not os.path.exists(spec):
        spec, config = spec.split(":", 1)
    if not spec:
        raise HarnessInputError("empty dataset id", source=source, fix="use hf:ORG/NAME[:CONFIG][@SPLIT]")
    return spec, config or None, split or None


def _load_frame(path: str, config: str | None, split: str | None, *, source: str) -> pd.DataFrame:
    try:
        import datasets
    except ImportError:
        raise HarnessInputError(
            "reading Hugging Face datasets needs the 'datasets' package",
            source=source,
            fix="pip install 'harness[hf]'",
        ) from None
    from datasets.exceptions import DatasetNotFoundError

    local = os.path.exists(path)
    looks_hub = not local and path.count("/") == 1 and not path.startswith((".", "/"))
    if not local and not looks_hub:
        raise HarnessInputError(
            "no such local dataset path",
            source=source,
            fix="give an existing directory or data file, or a hub id hf:ORG/NAME",
        )
    kwargs: dict[str, Any] = {}
    if "trust_remote_code" in inspect.signature(datasets.load_dataset).parameters:
        kwargs["trust_remote_code"] = False
    from datasets.utils import are_progress_bars_disabled, disable_progress_bars, enable_progress_bars

    bars_were_off = are_progress_bars_disabled()
    disable_progress_bars()  # progress bars would break the one-line error contract on stderr
    # the hub client logs each retry as a warning; the one-line error below says what failed
    hub_loggers = [logging.getLogger(name) for name in ("huggingface_hub", "datasets", "fsspec")]
    hub_levels = [logger.level for logger in hub_loggers]
    for logger in hub_loggers:
        logger.setLevel(logging.ERROR)
    try:
        with tempfile.TemporaryDirectory(prefix="harness-hf-") as cache:
            if (local and os.path.isdir(path) and os.path.exists(os.path.join(path, "state.json"))) or (
                local and os.path.isdir(path) and os.path.exists(os.path.join(path, "dataset_dict.json"))
            ):
                ds: Any = datasets.load_from_disk(path, keep_in_memory=True)
            elif local and os.path.isfile(path):
                from harness.loaders.generic import table_format_from_name

                kind = {
                    "jsonl": "json",
                    "json": "json",
                    "parquet": "parquet",
                    "csv": "csv",
                    "tsv": "csv",
                }.get(table_format_from_name(path) or "")
                if kind is None:
                    raise HarnessInputError(
                        "unknown data file type",
                        source=source,
                        fix="give .parquet, .jsonl(.gz), .json or .csv data files",
                    )
                ds = datasets.load_dataset(
                    kind,
                    data_files=path,
                    split=split or "train",
                    cache_dir=cache,
                    keep_in_memory=True,
                    **kwargs,
                )
            else:
                ds = datasets.load_dataset(
                    path, name=config, split=split, cache_dir=cache, keep_in_memory=True, **kwargs
                )
            if isinstance(ds, (datasets.DatasetDict, dict)):
                names = list(ds.keys())
                if split is not None:
                    if split not in names:
                        raise HarnessInputError(
                            f"no split {split!r}", source=source, fix=f"splits present: {', '.join(names)}"
                        )
                    ds = ds[split]
                elif len(names) == 1:
                    ds = ds[names[0]]
                else:
                    raise HarnessInputError(
                        f"the dataset has several splits ({', '.join(names)})",
                        source=source,
                        fix="choose one with @SPLIT, e.g. hf:ORG/NAME@train",
                    )
            frame: pd.DataFrame = ds.to_pandas()
            return frame
    except HarnessInputError:
        raise
    except DatasetNotFoundError as exc:
        raise HarnessInputError(
            f"dataset not found ({exc})",
            source=source,
            fix="check ORG/NAME on the hub (and your access), or give a local path",
        ) from None
    except ConnectionError as exc:
        msg = " ".join(str(exc).split())[:200]
        raise HarnessInputError(
            f"cannot reach the Hugging Face Hub ({msg})",
            source=source,
            fix="check the network and the dataset id, or save the dataset locally and give its path",
        ) from None
    except (ValueError, FileNotFoundError, OSError, KeyError) as exc:
        msg = " ".join(str(exc).split())[:300]
        raise HarnessInputError(
            f"cannot load the dataset ({type(exc).__name__}: {msg})",
            source=source,
            fix="check the config name and split (hf:ORG/NAME[:CONFIG][@SPLIT])",
        ) from None
    finally:
        if not bars_were_off:
            enable_progress_bars()
        for logger, level in zip(hub_loggers, hub_levels, strict=True):
            logger.setLevel(level)


def load_source(
    source: str, *, format: str, columns: ColumnMap, stopping: str | None, options: LoadOptions
) -> Loaded:
    """Load a Hugging Face dataset (hub id or local) into canonical tables."""
    from harness.loaders._build import finish
    from harness.loaders.generic import normalise_frame
    from harness.loaders.lists import detect_schema, load_lists, schema_from_columns

    path, config, split = parse_hub_id(source)
    df = _load_frame(path, config, split, source=source)
    if len(df) == 0:
        raise HarnessInputError("the dataset split has no rows", source=source, fix="choose another split")
    present = [str(c) for c in df.columns]
    if schema_from_columns(columns, present) is not None or detect_schema(present) is not None:
        return load_lists(df, source=source, fmt="hf", columns=columns, stopping=stopping, options=options)
    notes: list[str] = []
    df = normalise_frame(df, columns, source=source, notes=notes)
    return finish(df, source=source, fmt="hf", options=options, stopping=stopping, notes=notes)
