"""harness: does an accuracy-vs-test-time-compute curve say anything beyond plain repeated sampling?

The public API (everything else is private and may change):

- tables: :class:`QuestionCounts`, :func:`rollouts_to_counts`, :func:`validate_rollouts`
- loaders: :func:`load`, :func:`load_many`, :class:`ColumnMap`
- estimators: :func:`pass_at_k`, :func:`pass_hat_k`, :func:`at_least_m_of_k`, :func:`g_pass_at_k`,
  :func:`maj_at_k`, :func:`best_at_k`, and the closed forms :func:`maj_all_wrong_agree`, :func:`maj_all_wrong_differ`
- curves: :func:`compute_curves` (the tidy curve table)
- the sampling null model: :func:`analyse` -> :class:`Analysis` (fits, predictions, shape, dependence, budget)
- matched-compute comparison: :func:`compare_at_matched_compute` -> :class:`Comparison`
- audits of published numbers: :func:`load_claims`, :func:`audit_claims` -> :class:`AuditResult`, :func:`write_audit`
- errors: :class:`HarnessInputError`
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness._validation import HarnessInputError
    from harness.analysis import Analysis, analyse
    from harness.audit import AuditResult, ClaimAudit, audit_claims, load_claims, write_audit
    from harness.compare import Comparison, compare_at_matched_compute
    from harness.curves import compute_curves, default_ks
    from harness.estimators.bestk import best_at_k
    from harness.estimators.majority import maj_all_wrong_agree, maj_all_wrong_differ, maj_at_k, maj_at_k_one
    from harness.estimators.passk import (
        at_least_m_of_k,
        g_pass_at_k,
        pass_at_k,
        pass_at_k_all,
        pass_at_k_variance,
        pass_hat_k,
    )
    from harness.loaders import ColumnMap, Loaded, load, load_many
    from harness.tables import QuestionCounts, concat_counts, rollouts_to_counts, validate_rollouts

__version__ = "0.1.0"

_LAZY: dict[str, str] = {
    "HarnessInputError": "harness._validation",
    "Analysis": "harness.analysis",
    "analyse": "harness.analysis",
    "AuditResult": "harness.audit",
    "ClaimAudit": "harness.audit",
    "audit_claims": "harness.audit",
    "load_claims": "harness.audit",
    "write_audit": "harness.audit",
    "Comparison": "harness.compare",
    "compare_at_matched_compute": "harness.compare",
    "compute_curves": "harness.curves",
    "default_ks": "harness.curves",
    "best_at_k": "harness.estimators.bestk",
    "maj_all_wrong_agree": "harness.estimators.majority",
    "maj_all_wrong_differ": "harness.estimators.majority",
    "maj_at_k": "harness.estimators.majority",
    "maj_at_k_one": "harness.estimators.majority",
    "at_least_m_of_k": "harness.estimators.passk",
    "g_pass_at_k": "harness.estimators.passk",
    "pass_at_k": "harness.estimators.passk",
    "pass_at_k_all": "harness.estimators.passk",
    "pass_at_k_variance": "harness.estimators.passk",
    "pass_hat_k": "harness.estimators.passk",
    "ColumnMap": "harness.loaders",
    "Loaded": "harness.loaders",
    "load": "harness.loaders",
    "load_many": "harness.loaders",
    "QuestionCounts": "harness.tables",
    "concat_counts": "harness.tables",
    "rollouts_to_counts": "harness.tables",
    "validate_rollouts": "harness.tables",
}
"""Public name -> the private module defining it. Imported on first use, so ``import harness`` (and
``harness --help``) does not pay for numpy, pandas, scipy and numba until a name is used (PEP 562)."""


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'harness' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))


__all__ = [
    "Analysis",
    "AuditResult",
    "ClaimAudit",
    "ColumnMap",
    "Comparison",
    "HarnessInputError",
    "Loaded",
    "QuestionCounts",
    "__version__",
    "analyse",
    "at_least_m_of_k",
    "audit_claims",
    "best_at_k",
    "compare_at_matched_compute",
    "compute_curves",
    "concat_counts",
    "default_ks",
    "g_pass_at_k",
    "load",
    "load_claims",
    "load_many",
    "maj_all_wrong_agree",
    "maj_all_wrong_differ",
    "maj_at_k",
    "maj_at_k_one",
    "pass_at_k",
    "pass_at_k_all",
    "pass_at_k_variance",
    "pass_hat_k",
    "rollouts_to_counts",
    "validate_rollouts",
    "write_audit",
]
