"""The embedded default (``harness demo``): the argument this project grew from, exact and reproducible.

Part 1: one question at constant p. Accuracy against log samples is a sigmoid: pass@k = 1 - (1-p)^k is a
Gumbel CDF in ln k centred at ln(1/p), rising from 10% to 90% within 1.34 decades; maj@k is a step at p = 1/2
when all wrong answers agree (Condorcet) and rises to 1 for any p > 0 when they all differ.
Part 2: a synthetic test set whose p spreads over three decades; the mean of those sigmoids is a
straight-looking line in log k, and the full report pipeline (curves, slopes, diagnostics) runs on it.
Part 3: the bundled published claims, audited (when the audit stage is in this build). Pure apart from
rendering figures in memory; no data from the user, no network.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from harness.loaders import Loaded
from harness.report import figures as fig_lib
from harness.report.build import SIGMOID_WIDTH_DECADES, ReportOptions, build_report, optional_module
from harness.report.document import Report, ReportFigure, ReportTable, Section
from harness.report.tables import fixed_p_table
from harness.tables import QuestionCounts

DEMO_PS: tuple[float, ...] = (0.001, 0.01, 0.1, 0.4, 0.6)
DEMO_MODEL = "synthetic: log10 p ~ U(-3, 0)"
DEMO_CLAIMS: tuple[str, ...] = (
    "zhang-o1-mini-aime2024-majority-vote",
    "zhang-o1-mini-aime2024-token-budget",
    "gpassk-deepseek-r1-aime2024-45",
    "matharena-deepseek-r1-aime2025-i",
)
"""Claims the demo shows in full (figure and fits); every other bundled claim gets its verdict in a table."""


def demo_counts(questions: int = 200, n: int = 1000, seed: int = 0) -> QuestionCounts:
    """A synthetic test set: log10 p uniform on [-3, 0], n samples per question, wrong samples over 3 answers.

    Each question's wrong samples fall on three wrong answers with shares from a Dirichlet(1, 1, 1), so
    majority vote has a realistic wrong-answer structure between the two extremes.
    """
    rng = np.random.default_rng(seed)
    p = 10.0 ** rng.uniform(-3.0, 0.0, questions)
    c = rng.binomial(n, p)
    shares = rng.dirichlet(np.ones(3), size=questions)
    wrong = np.stack([rng.multinomial(n - ci, s) for ci, s in zip(c, shares, strict=True)])
    counts = QuestionCounts.from_classes(c, wrong, model=DEMO_MODEL)
    qids = np.array([f"q{i:03d}" for i in range(questions)], dtype=object)
    return replace(
        counts,
        question_id=qids,
        notes=(
            f"synthetic: {questions} questions, log10 p ~ U(-3, 0), {n} samples each, wrong samples on 3 "
            f"answers with Dirichlet(1,1,1) shares, seed {seed}",
        ),
    )


def fixed_p_summary(ps: tuple[float, ...] = DEMO_PS) -> pd.DataFrame:
    """Per p: the k where pass@k = 50% (ln 2 / -ln(1-p)), and the 10%-90% rise in k and decades."""
    rows = []
    for p in ps:
        lam = -np.log1p(-p)
        k10, k50, k90 = np.log(1 / 0.9) / lam, np.log(2) / lam, np.log(10) / lam
        rows.append(
            {
                "p": p,
                "k_at_10pct": k10,
                "k_at_50pct": k50,
                "k_at_90pct": k90,
                "decades_10_to_90": float(np.log10(k90 / k10)),
            }
        )
    return pd.DataFrame(rows)


def build_demo(
    *,
    bootstrap: int = 200,
    seed: int = 0,
    questions: int = 200,
    n: int = 1000,
    audit: bool = True,
    progress: Callable[[str], None] | None = None,
    parallel: bool = True,
) -> Report:
    """The three-part demo report (figures rendered in memory; nothing written).

    With ``parallel`` (and more than one CPU) Part 3's audit runs in a second process while Parts 1 and 2 are
    built here; the result is the same as without (same seeds, same code), only sooner.
    """
    pending = _start_audit(seed, audit, parallel)
    try:
        return _build_demo(bootstrap, seed, questions, n, audit, progress or (lambda _msg: None), pending)
    finally:
        if pending is not None:
            pending.close()


def _build_demo(
    bootstrap: int,
    seed: int,
    questions: int,
    n: int,
    audit: bool,
    say: Callable[[str], None],
    pending: _Pending | None,
) -> Report:
    say("part 1: one question at constant p")
    ks = np.unique(np.round(np.geomspace(1, 10_000, 41)).astype(np.int64))
    fixed = fixed_p_table(DEMO_PS, ks)
    widths = fixed_p_summary()
    fig1 = ReportFigure(
        "part1-fixed-p",
        "One question at constant p: pass@k and maj@k against log k at both wrong-answer extremes. Each "
        "pass@k curve is the same sigmoid shifted to ln(1/p).",
        fig_lib.fixed_p_figure(fixed),
    )
    part1 = Section(
        "Part 1 — one question: a sigmoid in log samples",
        (
            "Sample a question with success probability p independently k times. pass@k = 1 − (1 − p)^k = "
            "1 − exp(−k·λ) with λ = −ln(1 − p): in ln k that is a Gumbel CDF centred at ln(1/λ) ≈ ln(1/p). "
            f"It rises from 10% to 90% within {SIGMOID_WIDTH_DECADES:.2f} decades of k for every p, so one "
            "question never gives a long straight line in log k.",
            "maj@k depends on the wrong answers. If they all agree (a binary vote, Condorcet's jury "
            "theorem), maj@k tends to 1 for p > 1/2 and to 0 for p < 1/2. If they all differ, two correct "
            "votes win, so maj@k tends to 1 for any p > 0. Real answer distributions lie between these "
            "extremes.",
        ),
        figures=(fig1.name,),
        tables=(
            ReportTable(
                widths,
                "Where pass@k crosses 10%, 50% and 90%, and the width of the rise in decades (exact for "
                "Bernoulli(p) samples).",
                csv="part1_fixed_p_summary.csv",
            ),
        ),
        anchor="part1",
    )

    say("part 2: a test set whose p spreads over three decades")
    counts = demo_counts(questions=questions, n=n, seed=seed)
    loaded = Loaded(
        counts=counts,
        rollouts=None,
        source=f"embedded synthetic test set (seed {seed})",
        format="synthetic",
        notes=counts.notes,
    )
    sub_report = build_report(loaded, ReportOptions(bootstrap=bootstrap, seed=seed, max_model_figures=1), progress=say)
    part2_intro = Section(
        "Part 2 — many questions: the sigmoids average into a line",
        (
            f"{questions} questions with log10 p uniform on [−3, 0] and {n} samples each. Every question's "
            "curve is a 1.3-decade sigmoid; spread over three decades of p, their mean rises almost "
            "linearly in log k. The report below is exactly what harness report writes for logged data.",
            *sub_report.headline,
        ),
        anchor="part2",
    )
    part2_sections = tuple(
        replace(
            s,
            title=f"Part 2 · {s.title}",
            tables=tuple(replace(t, csv=_part2_csv(t.csv)) for t in s.tables),
            anchor=f"part2-{s.anchor}" if s.anchor else "",
        )
        for s in sub_report.sections
        if s.anchor not in ("methods",)
    )

    part3, audit_figs, audit_tables = _audit_part(seed, audit, say, pending)
    headline = (
        f"One question sampled independently gives a sigmoid in log k ({SIGMOID_WIDTH_DECADES:.2f} decades "
        "from 10% to 90%), never a long straight line (Part 1).",
        "A test set whose per-question p spreads over decades averages those sigmoids into a straight-looking "
        "line (Part 2). " + (sub_report.headline[1] if len(sub_report.headline) > 1 else sub_report.headline[0]),
        "So a straight accuracy-vs-log-compute curve is what plain repeated sampling produces; by itself it "
        "is no evidence that a model 'uses' extra compute (Part 3 audits published curves with this in "
        "mind).",
    )
    tables: dict[str, pd.DataFrame] = {"part1_fixed_p": fixed, "part1_fixed_p_summary": widths}
    tables.update({f"part2_{k}" if k not in UNPREFIXED else k: v for k, v in sub_report.tables.items()})
    tables.update(audit_tables)
    notes = {
        "part1_fixed_p": "exact pass@k and maj@k (both extremes) for one question at constant p",
        "part1_fixed_p_summary": "k at 10/50/90% pass@k and the rise in decades",
    }
    notes.update({(f"part2_{k}" if k not in UNPREFIXED else k): v for k, v in sub_report.table_notes.items()})
    methods = [_with_file_list(s, tables) for s in sub_report.sections if s.anchor == "methods"]
    summary: dict[str, Any] = {
        "headline": list(headline),
        "part2": sub_report.summary,
        "part3": {"audited": bool(audit_tables), "claims": len(audit_tables.get("audit_verdicts", []))},
        "options": {"bootstrap": bootstrap, "seed": seed, "questions": questions, "n": n},
    }
    return Report(
        title="Test-time compute and repeated sampling: the embedded demo",
        subtitle="harness demo · no user data · everything below is exact or a seeded bootstrap",
        headline=headline,
        sections=(part1, part2_intro, *part2_sections, *part3, *methods),
        figures=(fig1, *sub_report.figures, *audit_figs),
        tables=tables,
        summary=summary,
        table_notes=notes,
    )


def files_written(tables: dict[str, pd.DataFrame]) -> str:
    """The sentence naming the files the demo writes: one CSV per table, under the names it writes them."""
    return "Files: " + ", ".join(f"{name}.csv" for name in tables) + ", summary.json, figures/*.png and *.svg."


def _with_file_list(section: Section, tables: dict[str, pd.DataFrame]) -> Section:
    """The report's methods section with its 'Files:' sentence naming the demo's files, not the report's."""
    paragraphs = tuple(files_written(tables) if p.startswith("Files: ") else p for p in section.paragraphs)
    return replace(section, paragraphs=paragraphs)


UNPREFIXED = ("curves", "questions", "fits")
"""Part 2 tables written under their usual names (the demo's own tables get a part prefix)."""


def _part2_csv(csv: str | None) -> str | None:
    if csv is None or csv.removesuffix(".csv") in UNPREFIXED:
        return csv
    return f"part2_{csv}"


def _audit_results(seed: int) -> tuple[Any, Any]:
    """The audit behind Part 3: verdicts for every bundled claim, the full audit of :data:`DEMO_CLAIMS`.

    Pure and picklable (no figures drawn), so :func:`build_demo` can run it in a second process while Part 2 is
    built in the first.
    """
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    import harness.audit as module

    # one BLAS thread: the matrices are small and the other core is busy with Part 2 (see analysis.analyse)
    with threadpool_limits(limits=1, user_api="blas"):
        claims = module.load_claims()
        overview = module.audit_claims(claims, seed=seed, detail=False)
        ids = [c for c in DEMO_CLAIMS if (claims["claim_id"] == c).any()]
        detailed = module.audit_claims(claims[claims["claim_id"].isin(ids)], seed=seed) if ids else None
    return overview, detailed


class _Pending:
    """Part 3's audit running in a second process (spawned: no fork of a process holding numba threads)."""

    def __init__(self, seed: int) -> None:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        self._future = self._pool.submit(_audit_results, seed)

    def result(self, seed: int) -> tuple[Any, Any]:
        """The worker's result; if the worker could not run (no process, broken pool), the same work inline."""
        try:
            return self._future.result()
        except (OSError, RuntimeError, EOFError, ImportError, AttributeError):
            # BrokenProcessPool is a RuntimeError; the audit itself raises none of these for the bundled claims
            return _audit_results(seed)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the worker (idempotent): cancel the audit if it has not started, wait for the process to end."""
        self._pool.shutdown(wait=True, cancel_futures=True)


def _start_audit(seed: int, audit: bool, parallel: bool) -> _Pending | None:
    if not (audit and parallel and (os.cpu_count() or 1) > 1):
        return None
    if optional_module("harness.audit")[0] is None:
        return None
    try:
        return _Pending(seed)
    except (OSError, RuntimeError):
        return None


def _audit_part(
    seed: int, audit: bool, say: Callable[[str], None], pending: _Pending | None = None
) -> tuple[tuple[Section, ...], tuple[ReportFigure, ...], dict[str, pd.DataFrame]]:
    if not audit:
        return (Section("Part 3 — published claims", ("Skipped (--no-audit).",), anchor="part3"),), (), {}
    module, reason = optional_module("harness.audit")
    if module is None:
        return (
            (
                Section(
                    "Part 3 — published claims",
                    (f"Not run: {reason}. The audit of published curves belongs to harness audit.",),
                    anchor="part3",
                ),
            ),
            (),
            {},
        )
    say("part 3: auditing the bundled published claims (verdicts for all, figures for a few)")
    overview, detailed = pending.result(seed) if pending is not None else _audit_results(seed)
    verdicts = overview.verdicts()
    counts = verdicts["verdict"].value_counts()
    sections = [
        Section(
            "Part 3 — published claims audited",
            (
                f"{len(verdicts)} bundled published claims, each checked against plain i.i.d. sampling over "
                "its stated number of questions: "
                + ", ".join(f"{int(v)} {k}" for k, v in counts.items())
                + ". The table lists every verdict (distribution-free checks); the claims below are shown in "
                "full with their fits. Run harness audit for every claim in detail.",
            ),
            tables=(ReportTable(verdicts, "Verdict per claim.", csv="audit_verdicts.csv", max_rows=80),),
            anchor="part3",
        )
    ]
    figs = []
    for i, claim in enumerate(detailed.claims if detailed is not None else ()):
        name = f"part3-claim-{i + 1}"
        figs.append(
            ReportFigure(name, f"{claim.title}: published points and the fitted sampling curves.", claim.figure())
        )
        source = (f"Source: {claim.citation or claim.source}",) if (claim.citation or claim.source) else ()
        sections.append(
            Section(
                f"Claim {claim.claim_id}: {claim.title}",
                (f"Verdict: {claim.verdict}. {claim.summary}", *claim.evidence, *source),
                figures=(name,),
                anchor=f"claim-{i + 1}",
            )
        )
    fits = detailed.fits_table() if detailed is not None else pd.DataFrame()
    return tuple(sections), tuple(figs), {"audit_verdicts": verdicts, "audit_fits": fits}
