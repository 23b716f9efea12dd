"""Resampling questions with replacement: the one place the bootstrap weights are drawn.

The questions are the independent units, so every interval in the package resamples them; a replicate is a row
of multinomial counts over the Q questions divided by Q, so ``weights @ per_question_values`` is that replicate's
mean for every column (every k) at once.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def resample_weights(rng: np.random.Generator, questions: int, replicates: int) -> npt.NDArray[np.float64]:
    """(replicates, questions) resampling weights; each row sums to 1."""
    draws = rng.multinomial(questions, np.full(questions, 1.0 / questions), size=replicates)
    return np.asarray(draws / questions, dtype=np.float64)
