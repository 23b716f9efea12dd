"""The verdict: does a model's curve say anything beyond independent sampling? Tested where the data allow it.

For each (model, metric) one of five outcomes, decided by :func:`decide` from tidy tables alone
(docs/methods/verdict.md):

* ``not tested``: no axis along which exchangeability could fail was logged (no per-sample order, no group
  column). The shape of the curve is then described by the spread of p̂, never called "explained".
* ``consistent``: every test of the family ran and none rejected at the family level (Holm). The verdict names
  the tests, their measured size and the minimum detectable slope difference (pp per decade) at 80% power.
* ``negligible``: a test rejected, but the effect on the curve is shown to be within the practical margin: not
  a departure (below) and the interval of the slope difference lies inside +-``margin`` pp per decade (without a
  slope interval, the group axis: the interval of the largest gap lies inside +-``margin`` pp). Reported as
  significant but negligible, not as a departure.
* ``unresolved``: a test rejected, the effect is not beyond the margin, but its interval reaches beyond it (or
  it was not measured with an interval): neither a negligible nor a material effect is shown. The text gives the
  interval and what would narrow it.
* ``departs``: a test rejected and the effect exceeds the margin (|slope difference| > margin, or the whole
  interval of the largest gap beyond +-margin).

Families (Holm within each; the verdict's size is at most alpha by construction, measured in the benchmark):
order axis, pass@k: first-k permutation test + Tarone on consecutive blocks; maj@k: first-k permutation test +
X^2 of class x block. Group axis, pass@k: Tarone + permutation D(k) of pass@k; maj@k: X^2 of class x group +
permutation D(k) of maj@k. When both axes
exist, both families are pooled into one Holm family. Bootstrap D(k) and plug-in "measured - iid" differences
never enter a family: the first has almost no power, the second is the plug-in bias near k = n.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

Outcome = Literal["not tested", "consistent", "negligible", "unresolved", "departs"]
REJECTS: tuple[Outcome, ...] = ("negligible", "unresolved", "departs")
"""The outcomes in which the family's test rejected exchangeability."""
DEFAULT_MARGIN_PP = 1.0
"""Practical margin: 1 pp per decade of slope (and 1 pp of accuracy at any k). Why 1 pp: accuracy tables in
the papers audited here are printed to 0.1-1 pp and slopes per decade of 5-40 pp; a change below 1 pp per decade
moves a 2-decade curve by under 2 pp, inside the bootstrap interval of every real data set here."""

MEASURED_SIZE: dict[str, float] = {
    "first_k_permutation": 0.048,
    "tarone_blocks": 0.050,
    "chi2_class_by_block": 0.054,
    "overdispersion": 0.055,
    "chi2_class_by_group": 0.052,
    "curve_D_perm(pass@k)": 0.056,
    "curve_D_perm(maj@k)": 0.053,
    "verdict(order)": 0.050,
    "verdict(group)": 0.039,
    "verdict(order+group)": 0.034,
}
"""Rejection rate at alpha = 0.05 under i.i.d. sampling (all exact permutation tests, so size <= alpha by
construction up to Monte Carlo error). Source: benchmarks/bench_verdict.py run on commit 94e1867 (199
permutations, 200 bootstrap replicates; every simulated log has a group column, the batch), pooled over 440 data
sets (160 each at 30 questions x n = 16 and x n = 100, 60 at 500 x 16 and at 500 x 100; Monte Carlo SE 0.010),
table in docs/methods/verdict.md. "first_k_permutation" is the larger of its pass@k and maj@k rates, each
"verdict(axis)" the larger of the two metrics' rates with that axis (both axes: one Holm family). For the four
group tests the value is the larger of the benchmark's rate (0.052, 0.043, 0.048, 0.052 in the order listed) and
the intra-class-correlation simulation of docs/methods/null_model.md section 6 (1,000 data sets, SE 0.007:
0.055, 0.052, 0.056, 0.053)."""

INPUT_COLUMNS: tuple[str, ...] = (
    "model",
    "metric",
    "axis",
    "test",
    "p_value",
    "effect_pp",
    "effect_k",
    "effect_ci_low_pp",
    "effect_ci_high_pp",
    "slope_alt_pp",
    "slope_exch_pp",
    "slope_diff_pp",
    "slope_diff_ci_low_pp",
    "slope_diff_ci_high_pp",
    "mde_pp_per_decade",
)
_ALT_NAME = {"order": "first-k curve", "group": "within-group curve"}


@dataclass(frozen=True)
class Verdict:
    """One model's and metric's answer to "anything beyond independent sampling?" (see module docstring)."""

    model: str
    metric: str
    outcome: Outcome
    axis: str
    """'order', 'group', 'order+group' or '' (not tested)."""
    test: str
    """The family's tests, the one with the smallest adjusted p first."""
    p_value: float
    """Holm-adjusted p-value of the family (NaN when not tested)."""
    alpha: float
    measured_size: float
    mde_pp_per_decade: float
    effect_pp: float
    effect_k: int
    effect_ci_pp: tuple[float, float]
    slope_diff_pp: float
    slope_diff_ci_pp: tuple[float, float]
    slope_alt_pp: float
    slope_exch_pp: float
    margin_pp: float
    text: str


def holm(p: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Holm (1979) step-down adjusted p-values (same order as the input)."""
    pv = np.asarray(p, np.float64)
    m = len(pv)
    order = np.argsort(pv)
    adj = np.minimum(1.0, np.maximum.accumulate((m - np.arange(m)) * pv[order]))
    out = np.empty(m)
    out[order] = adj
    return out


def fmt(x: float, lo: float = float("nan"), hi: float = float("nan"), *, unit: str = "") -> str:
    """A number to the precision its interval supports: 0 decimals when the half-width is >= 5, 1 when >= 0.5,
    else 2 (no interval: 1 decimal); never '-0'."""
    if not np.isfinite(x):
        return "n/a"
    half = (hi - lo) / 2 if np.isfinite(lo) and np.isfinite(hi) else float("nan")
    digits = 1 if not np.isfinite(half) else (0 if half >= 5 else 1 if half >= 0.5 else 2)
    text = f"{x:+.{digits}f}" if unit == "signed" else f"{x:.{digits}f}"
    if float(text) == 0:
        text = text.replace("-", "").replace("+", "")
    return text


def fmt_ci(lo: float, hi: float) -> str:
    """'95% CI a to b' with the precision of the interval itself."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return "no interval"
    return f"95% CI {fmt(lo, lo, hi)} to {fmt(hi, lo, hi)}"


def shape_source(p_hat: npt.ArrayLike, n_max: int) -> str:
    """Where the curve's shape comes from when nothing was tested: the spread of p̂, described, with the cap
    that n samples put on it (p̂ of a solved question is at least 1/n, so log10 p̂ spans at most log10 n)."""
    p = np.asarray(p_hat, np.float64)
    inner = p[(p > 0) & (p < 1)]
    cap = float(np.log10(max(n_max, 1)))
    if len(inner) >= 2:
        span = float(np.diff(np.quantile(np.log10(inner), [0.1, 0.9]))[0])
        spread = (
            f"per-question success shares p̂ spread over {span:.1f} decades (10th to 90th percentile of the "
            f"{len(inner) / len(p):.0%} of questions with 0 < p̂ < 1; with n = {n_max} samples p̂ cannot span more "
            f"than log10 n = {cap:.1f} decades)"
        )
    else:
        spread = f"only {len(inner)} question(s) have 0 < p̂ < 1"
    return (
        f"described, not tested: {spread}; averaging one S-shaped curve per question over such a spread gives a "
        "curve of this kind under independent sampling, so the shape alone cannot tell sampling from anything else"
    )


def verdict_inputs(order: pd.DataFrame | None, dependence: pd.DataFrame | None) -> pd.DataFrame:
    """The rows that feed :func:`decide`: one per (model, metric, axis, test), with the family's effect."""
    parts: list[pd.DataFrame] = []
    if order is not None and len(order):
        parts.append(order.reindex(columns=list(INPUT_COLUMNS)))
    if dependence is not None and len(dependence):
        parts.append(_group_inputs(dependence))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=list(INPUT_COLUMNS))
    return pd.concat(parts, ignore_index=True)[list(INPUT_COLUMNS)]


def _group_inputs(dep: pd.DataFrame) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for model, part in dep.groupby("model", sort=False):
        for metric, tests in (
            ("pass@k", ("overdispersion", "curve_D_perm(pass@k)")),
            ("maj@k", ("chi2_class_by_group", "curve_D_perm(maj@k)")),
        ):
            if metric == "maj@k" and not part["test"].isin(["curve_D(maj@k)", "curve_D_perm(maj@k)"]).any():
                continue  # no answers: the vote was not tested
            eff = part[part["test"] == f"curve_D({metric})"].sort_values("k")
            if len(eff) < 2:  # no bootstrap: the same D(k) from the permutation rows, without an interval
                eff = part[part["test"] == f"curve_D_perm({metric})"].sort_values("k")
            effect = _effect_from_d(eff)
            for test in tests:
                t = part[part["test"] == test]
                if len(t) == 0:
                    continue
                mde = float(t["mde_pp_per_decade"].iloc[0]) if "mde_pp_per_decade" in t.columns else np.nan
                rows.append(
                    {
                        "model": model,
                        "metric": metric,
                        "axis": "group",
                        "test": test,
                        "p_value": float(t["p_value"].iloc[0]),
                        "mde_pp_per_decade": mde,
                        **effect,
                    }
                )
    return pd.DataFrame(rows, columns=list(INPUT_COLUMNS))


def _effect_from_d(eff: pd.DataFrame) -> dict[str, float]:
    """Largest |D(k)| with its bootstrap interval (NaN from permutation rows) and the slope of D on log10 k, in pp,
    from curve_D or curve_D_perm rows."""
    nan = float("nan")
    if len(eff) < 2:
        return {
            "effect_pp": nan,
            "effect_k": nan,
            "effect_ci_low_pp": nan,
            "effect_ci_high_pp": nan,
            "slope_alt_pp": nan,
            "slope_exch_pp": nan,
            "slope_diff_pp": nan,
            "slope_diff_ci_low_pp": nan,
            "slope_diff_ci_high_pp": nan,
        }
    d = eff["estimate"].to_numpy(np.float64)
    x = np.log10(eff["k"].to_numpy(np.float64))
    j = int(np.argmax(np.abs(d)))
    xc = x - x.mean()
    ci = eff[["ci_low", "ci_high"]].apply(pd.to_numeric, errors="coerce").to_numpy(np.float64)
    return {
        "effect_pp": 100 * d[j],
        "effect_k": float(eff["k"].iloc[j]),
        "effect_ci_low_pp": 100 * float(ci[j, 0]),
        "effect_ci_high_pp": 100 * float(ci[j, 1]),
        "slope_alt_pp": nan,
        "slope_exch_pp": nan,
        "slope_diff_pp": 100 * float(xc @ d / (xc @ xc)),
        "slope_diff_ci_low_pp": nan,
        "slope_diff_ci_high_pp": nan,
    }


def decide(
    inputs: pd.DataFrame,
    targets: list[tuple[str, str]],
    *,
    untested: dict[str, str],
    margin_pp: float = DEFAULT_MARGIN_PP,
    alpha: float = 0.05,
) -> tuple[Verdict, ...]:
    """A :class:`Verdict` for every (model, metric) in ``targets`` from the :func:`verdict_inputs` table.

    ``untested`` maps a model to the sentence on where its shape comes from and what would allow a test.
    """
    out = []
    for model, metric in targets:
        fam = inputs[(inputs["model"] == model) & (inputs["metric"] == metric)]
        fam = fam[pd.to_numeric(fam["p_value"], errors="coerce").notna()]
        out.append(_one(model, metric, fam, untested.get(model, ""), margin_pp, alpha))
    return tuple(out)


def _one(model: str, metric: str, fam: pd.DataFrame, untested: str, margin: float, alpha: float) -> Verdict:
    nan = float("nan")
    if len(fam) == 0:
        return Verdict(
            model,
            metric,
            "not tested",
            "",
            "",
            nan,
            alpha,
            nan,
            nan,
            nan,
            0,
            (nan, nan),
            nan,
            (nan, nan),
            nan,
            nan,
            margin,
            f"{metric}: not tested. {untested}".rstrip(),
        )
    adj = holm(fam["p_value"].to_numpy(np.float64))
    order = np.argsort(adj)
    fam = fam.iloc[order].reset_index(drop=True)
    adj = adj[order]
    p = float(adj[0])
    first = fam.iloc[0]
    # the effect: the order axis when present (what a user running samples in order sees), else the group axis
    eff = fam[fam["axis"] == "order"].iloc[0] if (fam["axis"] == "order").any() else first
    axis = "+".join(sorted({str(a) for a in fam["axis"]}, key=lambda a: (a != "order", a)))  # order+group
    tests = ", ".join(dict.fromkeys(str(t) for t in fam["test"]))
    mdes = pd.to_numeric(fam["mde_pp_per_decade"], errors="coerce").dropna()
    mde = float(mdes.max()) if len(mdes) else nan
    sizes = [MEASURED_SIZE.get(_test_key(str(t)), nan) for t in fam["test"]]
    size = float(np.nanmax(sizes)) if np.isfinite(sizes).any() else nan
    rule_size = MEASURED_SIZE.get(f"verdict({axis})", nan)
    e = float(eff["effect_pp"])
    e_lo, e_hi = float(eff["effect_ci_low_pp"]), float(eff["effect_ci_high_pp"])
    s = float(eff["slope_diff_pp"])
    s_lo, s_hi = float(eff["slope_diff_ci_low_pp"]), float(eff["slope_diff_ci_high_pp"])
    s_alt, s_exch = float(eff["slope_alt_pp"]), float(eff["slope_exch_pp"])
    k = int(eff["effect_k"]) if np.isfinite(float(eff["effect_k"])) else 0
    alt = _ALT_NAME.get(str(eff["axis"]), "curve")
    big = (np.isfinite(s) and abs(s) > margin) or (
        np.isfinite(e_lo) and np.isfinite(e_hi) and (e_lo > margin or e_hi < -margin)
    )
    size_txt = (
        f"measured size of each test at most {size:.1%}"
        + (f", of this verdict rule {rule_size:.1%}" if np.isfinite(rule_size) else "")
        if np.isfinite(size)
        else "size <= alpha by construction"
    )
    slopes = (
        f"the {alt} changes by {fmt(s_alt)} pp per decade against {fmt(s_exch)} for exchangeable samples, "
        if np.isfinite(s_alt) and np.isfinite(s_exch)
        else ""
    )
    effect_txt = (
        f"{slopes}a slope difference of {fmt(s, s_lo, s_hi, unit='signed')} pp per decade"
        + (f" ({fmt_ci(s_lo, s_hi)})" if np.isfinite(s_lo) else "")
        + f"; the largest gap between the curves is {fmt(e, e_lo, e_hi, unit='signed')} pp at k = {k} "
        f"({fmt_ci(e_lo, e_hi)})"
    )
    if p >= alpha:
        outcome: Outcome = "consistent"
        mde_txt = (
            f"it would have detected a slope difference of about {fmt(mde)} pp per decade with 80% power"
            if np.isfinite(mde)
            else "its detectable slope difference was not computed for this test"
        )
        text = (
            f"{metric}: consistent with independent sampling along the {axis} axis: {tests} (exact permutation "
            f"tests, Holm over {len(fam)} at {alpha:.0%}, {size_txt}) did not reject (adjusted p = {p:.2g}); "
            f"{mde_txt}. Observed: {effect_txt}."
        )
    elif big:
        outcome = "departs"
        text = (
            f"{metric}: departs from independent sampling along the {axis} axis: {effect_txt}, beyond the "
            f"{fmt(margin)} pp margin; {first['test']} rejects exchangeability (Holm-adjusted p = {p:.2g}, "
            f"{size_txt})."
        )
    elif not _within(s_lo, s_hi, e_lo, e_hi, margin):
        outcome = "unresolved"
        shown = (
            f"its effect on the curve is not resolved: {effect_txt}; the interval reaches beyond the {fmt(margin)} pp "
            "margin, so neither a negligible nor a material effect is shown (more questions narrow it)"
            if np.isfinite(s_lo) or np.isfinite(e_lo)
            else f"its effect on the curve was not measured with an interval (no bootstrap replicates): {effect_txt}"
        )
        text = (
            f"{metric}: {first['test']} rejects exchangeability along the {axis} axis (Holm-adjusted p = {p:.2g}, "
            f"{size_txt}), but {shown}; no departure is claimed."
        )
    else:
        outcome = "negligible"
        text = (
            f"{metric}: a significant but negligible departure along the {axis} axis: {first['test']} rejects "
            f"exchangeability (Holm-adjusted p = {p:.2g}, {size_txt}), but the effect on the curve is within the "
            f"{fmt(margin)} pp margin: {effect_txt}."
        )
    return Verdict(
        model,
        metric,
        outcome,
        axis,
        tests,
        p,
        alpha,
        size,
        mde,
        e,
        k,
        (e_lo, e_hi),
        s,
        (s_lo, s_hi),
        s_alt,
        s_exch,
        margin,
        text,
    )


def _within(s_lo: float, s_hi: float, e_lo: float, e_hi: float, margin: float) -> bool:
    """The effect is shown to be inside the margin: the slope-difference interval (pp per decade) when there is
    one, else the interval of the largest gap (pp)."""
    if np.isfinite(s_lo) and np.isfinite(s_hi):
        return bool(-margin <= s_lo and s_hi <= margin)
    return bool(np.isfinite(e_lo) and np.isfinite(e_hi) and -margin <= e_lo and e_hi <= margin)


def _test_key(test: str) -> str:
    if test in MEASURED_SIZE:
        return test
    for key in MEASURED_SIZE:  # first_k_permutation(metric), tarone_blocks_of_10, chi2_class_by_block_of_10
        if test.startswith(key):
            return key
    return test


def verdict_table(verdicts: tuple[Verdict, ...]) -> pd.DataFrame:
    """The verdicts as a tidy table (one row per model and metric)."""
    cols = (
        "model",
        "metric",
        "outcome",
        "axis",
        "test",
        "p_value",
        "alpha",
        "measured_size",
        "mde_pp_per_decade",
        "effect_pp",
        "effect_k",
        "slope_diff_pp",
        "slope_alt_pp",
        "slope_exch_pp",
        "margin_pp",
        "text",
    )
    rows = [{c: getattr(v, c) for c in cols} for v in verdicts]
    for v, row in zip(verdicts, rows, strict=True):
        row["effect_ci_low_pp"], row["effect_ci_high_pp"] = v.effect_ci_pp
        row["slope_diff_ci_low_pp"], row["slope_diff_ci_high_pp"] = v.slope_diff_ci_pp
        if v.effect_k == 0:
            row["effect_k"] = None  # no effect measured
    return pd.DataFrame(rows)
