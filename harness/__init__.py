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
