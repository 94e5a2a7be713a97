"""emviz: watch the Expectation-Maximization algorithm fit a Gaussian mixture, live."""

__version__ = "0.1.0"

from emviz.data import PRESETS, DataError, Dataset, generate, load_csv  # noqa: E402
from emviz.gmm import (  # noqa: E402
    EMStep,
    FitResult,
    Mixture,
    e_step,
    em,
    fit,
    initialize,
    log_likelihood,
    m_step,
    responsibilities,
)

__all__ = [
    "PRESETS",
    "DataError",
    "Dataset",
    "EMStep",
    "FitResult",
    "Mixture",
    "e_step",
    "em",
    "fit",
    "generate",
    "initialize",
    "load_csv",
    "log_likelihood",
    "m_step",
    "responsibilities",
]
