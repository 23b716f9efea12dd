"""The sampling null model: per-question p, fits of the spread of p, predictions beyond the logged n."""

from harness.models.pestimates import (
    clopper_pearson_interval,
    jeffreys_interval,
    likelihood_ratio_interval,
    question_table,
    wilson_interval,
)
from harness.models.predict import (
    plateau_rows,
    power_law_exponent,
    predict_maj_binary,
    predict_maj_structured,
    predict_pass,
    prediction_rows,
)
from harness.models.spread import FIT_NAMES, SpreadFit, beta_binomial_loglik, fit_spread, npmle_weights

__all__ = [
    "FIT_NAMES",
    "SpreadFit",
    "beta_binomial_loglik",
    "clopper_pearson_interval",
    "fit_spread",
    "jeffreys_interval",
    "likelihood_ratio_interval",
    "npmle_weights",
    "plateau_rows",
    "power_law_exponent",
    "predict_maj_binary",
    "predict_maj_structured",
    "predict_pass",
    "prediction_rows",
    "question_table",
    "wilson_interval",
]
