"""Outcome-dependent sample sizes: detect and record the stopping rule so c/n is never read as plain binomial.

Rule detected here: ``first-success-block:B`` — samples are drawn in blocks of B and sampling stops after the
first block that holds a success (Best-of-N jailbreaking, Hughes et al. 2024: B = 60, cap 10,020; verified on
the per-attempt logs in ../shared/data/bon_jailbreaking_text). It is declared detected only when the data
leave no other reading: sample ids are in draw order, n differs between questions, every n is a multiple of B
>= 2, every question with a success has its first success in its last block, and every question without one
sits at the cap.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from harness.tables import FIXED, parse_stopping


def detect_first_success_block(rollouts: pd.DataFrame) -> tuple[int | None, str]:
    """(B, reason) when the rollouts follow a first-success-block rule, else (None, why not)."""
    r = rollouts
    if "sample_id" not in r.columns:
        return None, "no sample order"
    sid = pd.to_numeric(r["sample_id"], errors="coerce")
    if sid.isna().any():
        return None, "sample ids are not numbers (no draw order)"
    d = pd.DataFrame(
        {
            "m": r["model"].to_numpy(),
            "q": r["question_id"].to_numpy(),
            "s": sid.to_numpy(),
            "c": r["correct"].to_numpy(bool),
        }
    )
    d = d.sort_values(["m", "q", "s"], kind="stable")
    d["rank"] = d.groupby(["m", "q"], sort=False).cumcount()
    g = d.groupby(["m", "q"], sort=False)
    n = g.size()
    first = d[d["c"]].groupby(["m", "q"], sort=False)["rank"].min().reindex(n.index)
    if n.nunique() < 2:
        return None, "every question has the same n"
    b = 0
    for v in n.to_numpy().tolist():
        b = math.gcd(b, int(v))
    if b < 2:
        return None, "sample counts share no block size"
    has = first.notna().to_numpy()
    nn = n.to_numpy()
    fb = first.to_numpy()
    last_block_ok = np.all((np.floor(fb[has] / b) + 1) * b == nn[has])
    cap_by_model = n.groupby(level=0).transform("max").to_numpy()
    none_at_cap = np.all(nn[~has] == cap_by_model[~has])
    if not (last_block_ok and none_at_cap and has.any()):
        return None, "successes do not end the sampling"
    if not np.any(nn[has] > b):
        return None, "no question needed more than one block"
    return (
        b,
        f"n is a multiple of {b}, each first success lies in the last block drawn, failures stop at the cap",
    )


def resolve_stopping(rollouts: pd.DataFrame, stopping: str | None, *, source: str) -> tuple[str, list[str]]:
    """The stopping rule to record, and notes (detections are notes the CLI prints as warnings)."""
    notes: list[str] = []
    if stopping is not None:
        rule = stopping.replace("=", ":")
        kind, block = parse_stopping(rule)
        if kind == "first-success-block":
            b, why = detect_first_success_block(rollouts)
            if b != block:
                notes.append(f"warning: --stopping {rule} given but the data do not show that rule ({why})")
        return rule, notes
    b, _ = detect_first_success_block(rollouts)
    if b is not None:
        rule = f"first-success-block:{b}"
        notes.append(first_block_warning(source, b))
        return rule, notes
    notes.extend(varying_n_notes(rollouts.groupby(["model", "question_id"], sort=False).size(), source))
    return FIXED, notes


def varying_n_notes(n: pd.Series, source: str, correct: npt.ArrayLike | None = None) -> list[str]:
    """A note when n differs between questions of one model (it may have been chosen after the outcomes).

    With the correct counts of a count table, the note names ``--stopping first-success-block=B`` when the
    counts fit that rule: every n a multiple of one block B >= 2 and every question without a success at its
    model's cap (the Best-of-N layout); otherwise it names ``--stopping adaptive``.
    """
    varies = n.groupby(level=0).nunique() > 1 if isinstance(n.index, pd.MultiIndex) else n.nunique() > 1
    if not bool(np.any(varies)):
        return []
    lo, hi = int(n.min()), int(n.max())
    block = math.gcd(*(int(v) for v in n.to_numpy()))
    at_cap = True
    if correct is not None:
        cap = n.groupby(level=0).transform("max") if isinstance(n.index, pd.MultiIndex) else n * 0 + hi
        at_cap = bool(np.all((np.asarray(correct) > 0) | (n.to_numpy() == cap.to_numpy())))
    if correct is not None and at_cap and 2 <= block < hi:  # the Best-of-N layout: name its exact option
        how = (
            f"if samples were drawn in blocks of {block} until the first block with a success (Best-of-N), pass "
            f"--stopping first-success-block={block}; if n was chosen after seeing outcomes in another way, "
            "pass --stopping adaptive"
        )
    else:
        how = "if it was chosen after seeing outcomes, pass --stopping adaptive"
    return [
        f"warning: {source}: the number of samples varies between questions ({lo} to {hi}); {how}, so c/n is "
        "not treated as a plain binomial estimate"
    ]


def first_block_warning(source: str, block: int) -> str:
    """The warning when a log shows the first-success-block stopping rule (every first success in the last block)."""
    rule = f"first-success-block:{block}"
    return (
        f"warning: {source}: sampling stopped after the first block of {block} with a success "
        f"(detected: every first success is in the last block drawn); recorded as stopping={rule}, "
        f"so c/n is not a plain binomial estimate (confirm with --stopping first-success-block={block}, "
        "or override with --stopping fixed)"
    )
