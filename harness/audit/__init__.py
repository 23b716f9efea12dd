"""Audit published test-time-compute claims: are the numbers consistent with plain i.i.d. sampling?

Public API:

- :func:`load_claims` - the tidy claims table (bundled published numbers by default)
- :func:`audit_claims` - one :class:`ClaimAudit` per claim, collected in an :class:`AuditResult`
- :func:`write_audit` - audit.md, audit.html (self-contained), audit_fits.csv and one PNG per claim

See docs/methods/audit.md for the checks, fits and what they can and cannot conclude.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from harness.audit._audit import FIT_COLUMNS, VERDICTS, ClaimAudit, audit_claim
from harness.audit._claims import load_claims, split_claims, validate_claims
from harness.audit._pool import Check


@dataclass(frozen=True)
class AuditResult:
    """Every claim's audit, in input order."""

    claims: tuple[ClaimAudit, ...]

    def fits_table(self) -> pd.DataFrame:
        """All fitted family members and distribution-free fits, one row each (see FIT_COLUMNS)."""
        frames = [c.fits for c in self.claims if len(c.fits)]
        if not frames:
            return pd.DataFrame(columns=list(FIT_COLUMNS))
        return pd.concat(frames, ignore_index=True)[list(FIT_COLUMNS)]

    def verdicts(self) -> pd.DataFrame:
        """claim_id, title, verdict, summary, basis (what the verdict rests on, in a few words)."""
        return pd.DataFrame(
            [(c.claim_id, c.title, c.verdict, c.summary, c.basis) for c in self.claims],
            columns=["claim_id", "title", "verdict", "summary", "basis"],
        )


def audit_claims(
    claims: pd.DataFrame,
    *,
    seed: int = 0,
    detail: bool = True,
    progress: Callable[[str], None] | None = None,
    power: bool = True,
) -> AuditResult:
    """Audit every claim of a validated claims table (from :func:`load_claims`).

    ``detail=False`` computes the verdict and the distribution-free checks only (no fits, bands or shapes);
    ``progress`` is called with a short message before each claim; ``power=False`` skips the simulated power of
    'consistent' verdicts (calibration loops).
    """
    table = validate_claims(claims, source="claims table")
    out = []
    parts = split_claims(table)
    for i, c in enumerate(parts):
        if progress is not None:
            progress(f"[{i + 1}/{len(parts)}] {c.claim_id}")
        out.append(audit_claim(c, seed=seed, detail=detail, power=power))
    return AuditResult(tuple(out))


def write_audit(result: AuditResult, out_dir: str) -> list[str]:
    """Write audit.md, audit.html (figures embedded), audit_verdicts.csv, audit_fits.csv, figures/*.png; return
    the paths. Everything is rendered before anything is written; a new folder appears complete or not at all."""
    from harness.audit._report import write_audit as _write

    return _write(result, out_dir)


__all__ = ["VERDICTS", "AuditResult", "Check", "ClaimAudit", "audit_claims", "load_claims", "write_audit"]
