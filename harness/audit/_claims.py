"""Published claims: load, validate and normalise the tidy claims table (one row per published number).

Columns of the full format (``data/published/claims.csv``): ``claim_id, metric, k, value, n_questions`` are
required;
``title, source, citation, location, model, benchmark, tau, question, compute, compute_unit,
samples_per_question,
rounding, error, verification, notes`` are optional. Values are percentages in [0, 100].

Metrics: ``pass@k`` (coverage), ``maj@k`` (cons@k, majority vote of k samples), ``g-pass@k`` (at least
ceil(tau k) of k correct; needs ``tau``), ``rerank@k`` (an answer selected from k samples; a lower bound on
pass@k), ``question-accuracy`` (one question's success rate over k runs; needs ``question``) and ``accuracy``
(anything that is not a function of i.i.d. samples: greedy decoding, a reasoning-length budget).

Digitised chart points: a file with ``compute, value`` (and optionally ``error``, ``n_questions``) and no
``metric`` column is one claim of pass@k points at k = compute.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from harness._validation import HarnessInputError, require_columns

METRICS = ("pass@k", "maj@k", "g-pass@k", "rerank@k", "question-accuracy", "accuracy")
SAMPLING_METRICS = ("pass@k", "maj@k", "g-pass@k", "rerank@k", "question-accuracy")
REQUIRED = ("claim_id", "metric", "k", "value", "n_questions")
OPTIONAL_TEXT = (
    "title",
    "source",
    "citation",
    "location",
    "model",
    "benchmark",
    "compute_unit",
    "verification",
    "notes",
    "question",
    "reading",
)
OPTIONAL_NUM = ("tau", "compute", "samples_per_question", "rounding", "error")
CLAIM_COLUMNS = REQUIRED + OPTIONAL_TEXT + OPTIONAL_NUM + ("resolution",)
READINGS = ("", "one pool", "separate runs")
BUNDLED_NAME = "claims.csv"

POINT_COLUMNS = (
    "metric",
    "k",
    "m",
    "tau",
    "compute",
    "compute_unit",
    "value",
    "y",
    "sd_extra",
    "n_samples",
    "verified",
    "verification",
    "label",
    "notes",
    "half_res",
    "err",
    "pooled",
)


def bundled_path() -> str:
    """Path of the bundled claims CSV (package data; the repository's ``data/published`` as fallback)."""
    try:
        ref = resources.files("harness") / "_data" / "published" / BUNDLED_NAME
        if ref.is_file():
            return str(ref)
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - package always importable here
        pass
    repo = Path(__file__).resolve().parents[2] / "data" / "published" / BUNDLED_NAME
    if repo.is_file():
        return str(repo)
    raise HarnessInputError(
        "the bundled published claims are missing from this installation",
        fix="reinstall harness or pass a claims file",
    )


def load_claims(path: str | None = None, *, n_questions: int | None = None, metric: str | None = None) -> pd.DataFrame:
    """Read and validate a claims table (``None``: the bundled published claims); one row per number.

    ``n_questions`` fills blank ``n_questions`` cells; ``metric`` (pass@k or maj@k) is the metric of
    digitised chart points (default pass@k, k = compute).
    """
    src = bundled_path() if path is None else path
    label = "bundled claims" if path is None else path
    if not os.path.isfile(src):
        raise HarnessInputError("no such file", source=label, fix="give the path of a claims CSV")
    try:
        raw = pd.read_csv(src, dtype=str, keep_default_na=False, skipinitialspace=True)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
        raise HarnessInputError(
            f"cannot read as CSV: {str(exc).splitlines()[0]}",
            source=label,
            fix="save the table as comma-separated text with a header row",
        ) from None
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    if "value_pct" in raw.columns and "value" not in raw.columns and "claim_id" not in raw.columns:
        raw = from_published_numbers(raw, label, n_questions)
    if "metric" not in raw.columns and {"compute", "value"} <= set(raw.columns):
        raw = _from_digitised(raw, Path(src).stem)
        if metric is not None:
            if metric not in ("pass@k", "maj@k"):
                raise HarnessInputError(
                    f"--metric {metric!r} is not pass@k or maj@k", fix="digitised points are pass@k or maj@k"
                )
            raw["metric"] = metric
    if n_questions is not None:
        if n_questions < 1:
            raise HarnessInputError(f"--n-questions {n_questions} is not positive", fix="count the questions")
        if "n_questions" not in raw.columns:
            raw["n_questions"] = ""
        blank = raw["n_questions"].astype(str).str.strip() == ""
        raw.loc[blank, "n_questions"] = str(n_questions)
    return validate_claims(raw, source=label)


_METRIC_RE = re.compile(r"(pass|cons|maj|rerank)@(\d+)", re.IGNORECASE)
_NUM_RE = re.compile(r"[-+]?\d+(?:\.\d+)?")


def from_published_numbers(raw: pd.DataFrame, label: str, n_questions: int | None = None) -> pd.DataFrame:
    """The shared published-numbers table (``source, where, model, benchmark, n_questions, metric, compute,
    value_pct, verification, notes``; ``same`` repeats the row above) as claims rows, one claim per
    (source without its parenthesised date, model, benchmark).

    Metrics: ``pass@K``, ``cons@K`` (= maj@K), ``rerank@K``, ``coverage`` (pass@k at the sample counts in
    ``compute``), ``score`` (answers chosen from the N samples in ``compute``: rerank@N), ``accuracy (greedy...)``;
    two numbers in one cell (``9.3 / 13.4`` or ``15.9 -> 56.0``) give two rows. "mean of N samples" sets
    samples_per_question. Rows that cannot be audited (a value like ``>95``, no number of questions, a claim with a
    single number) are excluded and listed in the ``notes`` of an ``excluded`` marker the command prints.
    """
    df = raw.copy()
    for col in ("source", "where"):
        if col in df.columns:
            vals = df[col].astype(str).tolist()
            for i in range(1, len(vals)):
                if vals[i].strip().lower() == "same":
                    vals[i] = vals[i - 1]
            df[col] = vals
    rows: list[dict[str, object]] = []
    excluded: list[str] = []
    for i, r in enumerate(df.to_dict("records")):
        line = i + 2
        metric_txt, comp, val = str(r.get("metric", "")), str(r.get("compute", "")), str(r.get("value_pct", ""))
        values = [v for v in re.split(r"\s*(?:/|->)\s*", val.strip()) if v]
        found = _METRIC_RE.findall(metric_txt)
        low = metric_txt.lower()
        specs: list[tuple[str, str, str]] = []  # (metric, k, samples_per_question)
        n_stated = re.search(r"mean of (\d+) samples", low)
        if found:
            for name, kk in found:
                m = {"pass": "pass@k", "cons": "maj@k", "maj": "maj@k", "rerank": "rerank@k"}[name.lower()]
                spq = n_stated.group(1) if (n_stated and m == "pass@k") else (kk if m != "pass@k" else "")
                specs.append((m, kk, spq))
        elif low.startswith("coverage"):
            specs = [("pass@k", k, "") for k in _NUM_RE.findall(comp)]
        elif low.startswith("score"):
            specs = [("rerank@k", k, k) for k in _NUM_RE.findall(comp.split("samples")[0])[-1:]]
        elif low.startswith("accuracy"):
            specs = [("accuracy", "", "")]
        if not specs or len(specs) != len(values) or not all(_NUM_RE.fullmatch(v) for v in values):
            excluded.append(f"line {line} ({metric_txt or 'no metric'} = {val or 'no value'})")
            continue
        for (m, kk, spq), v in zip(specs, values, strict=True):
            rows.append(
                {
                    "claim_id": f"{_source_stem(str(r.get('source', '')))} | {r.get('model', '')} | "
                    f"{r.get('benchmark', '')}",
                    "title": f"{r.get('model', '')} on {r.get('benchmark', '')}",
                    "source": r.get("source", ""),
                    "citation": r.get("where", ""),
                    "model": r.get("model", ""),
                    "benchmark": r.get("benchmark", ""),
                    "n_questions": r.get("n_questions", ""),
                    "metric": m,
                    "k": kk,
                    "value": v,
                    "samples_per_question": spq,
                    "compute": kk if m != "accuracy" else "",
                    "compute_unit": "samples" if m != "accuracy" else "budget",
                    "verification": r.get("verification", ""),
                    "notes": r.get("notes", ""),
                }
            )
    out = pd.DataFrame(rows)
    if len(out):
        if n_questions is not None:
            out.loc[out["n_questions"].astype(str).str.strip() == "", "n_questions"] = str(n_questions)
        nq = out["n_questions"].astype(str).str.strip()
        for cid in out.loc[nq == "", "claim_id"].unique().tolist():
            excluded.append(f"claim {cid!r} (no number of questions; give --n-questions)")
        out = out[nq != ""]
        sizes = out.groupby("claim_id")["value"].transform("size")
        for cid in out.loc[sizes < 2, "claim_id"].unique().tolist():
            excluded.append(f"claim {cid!r} (a single number)")
        out = out[sizes >= 2]
    if not len(out):
        raise HarnessInputError("no auditable claim in the published-numbers table", source=label)
    out = out.copy()
    out["excluded"] = "; ".join(excluded)
    return out.reset_index(drop=True)


def _source_stem(source: str) -> str:
    """A source without its parenthesised date or part ('OpenAI o1 blog (2024-09-12)' -> 'OpenAI o1 blog')."""
    return re.sub(r"\s*\([^)]*\)", "", source).strip()


def conversion_notes(claims: pd.DataFrame) -> list[str]:
    """What a conversion left out (printed by the command), from the ``excluded`` column."""
    if "excluded" not in claims.columns or not len(claims):
        return []
    text = str(claims["excluded"].iloc[0])
    return [f"excluded from the audit: {text}"] if text else []


def _from_digitised(raw: pd.DataFrame, stem: str) -> pd.DataFrame:
    out = raw.copy()
    out["claim_id"] = stem
    out["metric"] = "pass@k"
    out["k"] = out["compute"]
    if "n_questions" not in out.columns:
        out["n_questions"] = ""
    out["compute_unit"] = "samples"
    out["title"] = f"digitised chart points from {stem}"
    out["verification"] = "digitised by the user"
    return out


def _num(series: pd.Series, name: str, source: str, *, required: bool) -> np.ndarray:
    """Numbers from a text column; blanks are NaN (an error when required); errors name the CSV line."""
    out = np.full(len(series), np.nan)
    for i, v in enumerate(series.tolist()):
        s = "" if v is None else str(v).strip()
        if s == "" or s.lower() in ("nan", "na", "n/a"):
            if required:
                raise HarnessInputError(
                    "empty value", source=source, line=i + 2, column=name, fix=f"every row needs a {name}"
                )
            continue
        try:
            out[i] = float(s.rstrip("%"))
        except ValueError:
            raise HarnessInputError(
                f"{s!r} is not a number",
                source=source,
                line=i + 2,
                column=name,
                fix="write a plain number, e.g. 44.6",
            ) from None
        if not math.isfinite(out[i]):
            raise HarnessInputError(f"{s!r} is not finite", source=source, line=i + 2, column=name)
    return out


def validate_claims(raw: pd.DataFrame, *, source: str = "claims") -> pd.DataFrame:
    """Check and normalise a claims table; each problem is a one-line HarnessInputError (line, column)."""
    df = raw.copy()
    df.columns = [str(c).strip().lower() for c in df.columns]
    if "note" in df.columns and "notes" not in df.columns:
        df = df.rename(columns={"note": "notes"})
    require_columns(list(df.columns), REQUIRED, source=source)
    if len(df) == 0:
        raise HarnessInputError("the table has no rows", source=source, fix="one row per published number")
    out = pd.DataFrame({"claim_id": df["claim_id"].astype(str).str.strip()})
    for i, cid in enumerate(out["claim_id"].tolist()):
        if not cid:
            raise HarnessInputError(
                "empty claim_id",
                source=source,
                line=i + 2,
                column="claim_id",
                fix="name the claim each number belongs to",
            )
    metric = df["metric"].astype(str).str.strip().str.lower().replace({"cons@k": "maj@k", "coverage": "pass@k"})
    for i, m in enumerate(metric.tolist()):
        if m not in METRICS:
            raise HarnessInputError(
                f"unknown metric {m!r}",
                source=source,
                line=i + 2,
                column="metric",
                fix=f"use one of {', '.join(METRICS)}",
            )
    out["metric"] = metric.to_numpy()
    k = _num(df["k"], "k", source, required=False)
    value = _num(df["value"], "value", source, required=True)
    nq = _num(df["n_questions"], "n_questions", source, required=False)
    for name in OPTIONAL_NUM:
        out[name] = _num(df[name], name, source, required=False) if name in df.columns else np.nan
    for name in OPTIONAL_TEXT:
        out[name] = df[name].astype(str).str.strip().to_numpy() if name in df.columns else ""
    metrics_ = out["metric"].to_numpy()
    err_ = out["error"].to_numpy(dtype=float)
    tau_ = out["tau"].to_numpy(dtype=float)
    quest_ = out["question"].astype(str).str.strip().replace({"nan": ""}).to_numpy()
    for i in range(len(df)):
        line = i + 2
        if not 0.0 <= value[i] <= 100.0:
            raise HarnessInputError(
                f"value {value[i]:g} is outside [0, 100]",
                source=source,
                line=line,
                column="value",
                fix="values are percentages (multiply fractions by 100)",
            )
        m = str(metrics_[i])
        if m in SAMPLING_METRICS:
            if not np.isfinite(k[i]):
                raise HarnessInputError(
                    f"{m} needs k",
                    source=source,
                    line=line,
                    column="k",
                    fix="k is the number of samples the number was measured at",
                )
            if k[i] <= 0:
                raise HarnessInputError(
                    f"k={k[i]:g} is not positive",
                    source=source,
                    line=line,
                    column="k",
                    fix="k counts samples and starts at 1",
                )
            if m in ("maj@k", "g-pass@k", "question-accuracy") and k[i] != round(k[i]):
                raise HarnessInputError(
                    f"k={k[i]:g} is not a whole number",
                    source=source,
                    line=line,
                    column="k",
                    fix=f"{m} needs a whole number of samples",
                )
        if np.isfinite(nq[i]) and (nq[i] < 1 or nq[i] != round(nq[i])):
            raise HarnessInputError(
                f"n_questions={nq[i]:g} is not a positive whole number",
                source=source,
                line=line,
                column="n_questions",
            )
        if not np.isfinite(nq[i]) and not (np.isfinite(err_[i]) and err_[i] > 0):
            raise HarnessInputError(
                "n_questions is empty and no error is given",
                source=source,
                line=line,
                column="n_questions",
                fix="give the number of questions (it sets the sampling noise) or an error",
            )
        if m == "g-pass@k" and not 0.0 < tau_[i] <= 1.0:
            raise HarnessInputError(
                f"tau={tau_[i]!r} is outside (0, 1]",
                source=source,
                line=line,
                column="tau",
                fix="G-Pass@k needs its threshold tau in (0, 1]",
            )
        if m == "question-accuracy" and not quest_[i]:
            raise HarnessInputError(
                "question-accuracy needs a question id", source=source, line=line, column="question"
            )
        for name in ("rounding", "error", "samples_per_question"):
            v = float(out[name].to_numpy(dtype=float)[i])
            if np.isfinite(v) and v < 0:
                raise HarnessInputError(f"{name}={v:g} is negative", source=source, line=line, column=name)
    reading = out["reading"].astype(str).str.strip().str.lower().replace({"nan": ""}).to_numpy()
    for i, r in enumerate(reading.tolist()):
        if r not in READINGS:
            raise HarnessInputError(
                f"unknown reading {r!r}",
                source=source,
                line=i + 2,
                column="reading",
                fix="leave it empty (not stated), or write 'one pool' or 'separate runs'",
            )
    out["reading"] = reading
    out["k"] = k
    out["value"] = value
    out["n_questions"] = nq
    rounding = out["rounding"].to_numpy(dtype=float)
    implied = (
        _num(df["resolution"], "resolution", source, required=False)
        if "resolution" in df.columns  # an already validated table keeps what its text said
        else np.array([decimal_resolution(str(v)) for v in df["value"].tolist()])
    )
    out["resolution"] = np.where(np.isfinite(rounding), rounding, np.nan_to_num(implied))
    for cid, grp in out.groupby("claim_id", sort=False):
        if grp["metric"].nunique() > 1 and (grp["metric"] == "accuracy").any():
            raise HarnessInputError(
                "mixes 'accuracy' rows with sampling metrics",
                source=source,
                line=int(grp.index[0]) + 2,
                column="metric",
                fix=f"put the non-sampling numbers of claim {cid!r} in a claim of their own",
            )
        if grp["n_questions"].nunique(dropna=False) > 1:
            raise HarnessInputError(
                f"claim {cid!r} has more than one n_questions",
                source=source,
                line=int(grp.index[0]) + 2,
                column="n_questions",
                fix="all numbers of one claim are on the same question set",
            )
        n_pts = _n_points(grp)
        if n_pts < 2:
            raise HarnessInputError(
                f"claim {cid!r} has {n_pts} point(s); an audit needs at least 2",
                source=source,
                line=int(grp.index[0]) + 2,
                column="value",
                fix="a single number says nothing about how accuracy grows with compute",
            )
    for name in ("title", "verification"):
        blank = out[name] == ""
        out.loc[blank, name] = out.loc[blank, "claim_id"] if name == "title" else "not stated"
    if "excluded" in df.columns:
        out["excluded"] = df["excluded"].astype(str).to_numpy()
    cols = list(CLAIM_COLUMNS) + (["excluded"] if "excluded" in out.columns else [])
    return out[cols].reset_index(drop=True)


def decimal_resolution(text: str) -> float:
    """The resolution implied by how a number is written ('44.6' -> 0.1, '40' -> 1, '53.3333' -> 0.0001)."""
    t = text.strip().rstrip("%")
    if "e" in t.lower() or not t:
        return 0.0
    return 10.0 ** (-(len(t.split(".")[1]) if "." in t else 0))


def _n_points(grp: pd.DataFrame) -> int:
    if (grp["metric"] == "question-accuracy").any():
        runs = int(grp.loc[grp["metric"] == "question-accuracy", "k"].min())
        return runs if grp["question"].nunique() >= 1 else 0
    return len(grp)


def is_verified(text: str) -> bool:
    """True when the verification note says the number was checked against its source."""
    t = text.lower()
    if any(w in t for w in ("unverified", "not re-fetched", "from memory", "not stated")):
        return False
    return t.startswith(("verified", "copied verbatim", "corroborated"))


def _pooled(metric: str, k: float, n: float) -> bool:
    """Is the number a pooled symmetric estimator? G-Pass (hypergeometric by definition) and pass@k / maj@k
    from a stated n > k samples per question (the unbiased estimator, the U-statistic)."""
    if metric == "g-pass@k":
        return True
    return metric in ("pass@k", "maj@k") and math.isfinite(n) and n > k


@dataclass(frozen=True)
class Claim:
    """One claim: its citation fields and its points normalised to fractions (see POINT_COLUMNS)."""

    claim_id: str
    title: str
    n_questions: float
    reading: str
    source: str
    citation: str
    location: str
    model: str
    benchmark: str
    points: pd.DataFrame

    @property
    def sampling(self) -> bool:
        return bool((self.points["metric"] != "accuracy").all())


def split_claims(claims: pd.DataFrame) -> list[Claim]:
    """The validated table as Claim objects (question-accuracy rows become pass@k points, k = 1..runs)."""
    from scipy.special import comb

    out: list[Claim] = []
    for cid, grp in claims.groupby("claim_id", sort=False):
        first = grp.iloc[0]
        qa = grp[grp["metric"] == "question-accuracy"]
        rows: list[dict[str, object]] = []
        for _, r in grp[grp["metric"] != "question-accuracy"].iterrows():
            k = float(r["k"]) if np.isfinite(r["k"]) else 1.0
            tau = float(r["tau"])
            m = math.ceil(tau * k - 1e-12) if r["metric"] == "g-pass@k" else 0
            rnd = float(np.nan_to_num(r["rounding"]))
            err = float(np.nan_to_num(r["error"]))
            label = f"{r['metric'].replace('@k', '')}@{k:g}" if r["metric"] != "accuracy" else "accuracy"
            if r["metric"] == "g-pass@k":
                label = f"G-Pass@{k:g} tau={tau:g}"
            rows.append(
                dict(
                    metric=r["metric"],
                    k=k,
                    m=m,
                    tau=tau,
                    compute=float(r["compute"]),
                    compute_unit=r["compute_unit"],
                    value=float(r["value"]),
                    y=float(r["value"]) / 100.0,
                    sd_extra=math.sqrt(rnd**2 / 12.0 + err**2) / 100.0,
                    n_samples=float(r["samples_per_question"]),
                    verified=is_verified(r["verification"]),
                    verification=r["verification"],
                    label=label,
                    notes=r["notes"],
                    half_res=float(np.nan_to_num(r["resolution"])) / 200.0,
                    err=err / 100.0,
                    pooled=_pooled(str(r["metric"]), k, float(r["samples_per_question"])),
                )
            )
        if len(qa):
            runs = int(qa["k"].max())
            c = np.rint(qa["value"].to_numpy() / 100.0 * qa["k"].to_numpy()).astype(np.int64)
            n = qa["k"].to_numpy().astype(np.int64)
            ks = np.arange(1, int(n.min()) + 1)
            # unbiased pass@k = 1 - C(n - c, k) / C(n, k) (Chen et al. 2021); n is a handful of runs, so exact
            # binomial coefficients are cheaper than the compiled estimator's first call
            pk = np.array([np.mean(1.0 - comb(n - c, k) / comb(n, k)) for k in ks.tolist()])
            ver = qa["verification"].iloc[0]
            for j, kk in enumerate(ks.tolist()):
                rows.append(
                    dict(
                        metric="pass@k",
                        k=float(kk),
                        m=0,
                        tau=np.nan,
                        compute=float(kk),
                        compute_unit="samples",
                        value=100.0 * float(pk[j]),
                        y=float(pk[j]),
                        sd_extra=0.0,
                        n_samples=float(runs),
                        verified=is_verified(ver),
                        verification=ver,
                        label=f"pass@{kk}",
                        notes=f"unbiased pass@{kk} from the {len(qa)} published per-question rates over {runs} runs",
                        half_res=float(np.nan_to_num(qa["resolution"].max())) / 200.0,
                        err=0.0,
                        pooled=True,
                    )
                )
        pts = pd.DataFrame(rows, columns=list(POINT_COLUMNS))
        # pass@n from the same n samples that give a pooled pass@k (k < n) is that pool's coverage: pooled too
        pool_ns = set(pts.loc[pts["pooled"].astype(bool) & (pts["metric"] == "pass@k"), "n_samples"].tolist())
        same_pool = (pts["metric"] == "pass@k") & (pts["k"] == pts["n_samples"]) & pts["n_samples"].isin(pool_ns)
        pts.loc[same_pool, "pooled"] = True
        out.append(
            Claim(
                claim_id=str(cid),
                title=str(first["title"]),
                n_questions=float(first["n_questions"]),
                reading=str(first["reading"]),
                source=str(first["source"]),
                citation=str(first["citation"]),
                location=str(first["location"]),
                model=str(first["model"]),
                benchmark=str(first["benchmark"]),
                points=pts,
            )
        )
    return out
