"""The project's error types.

Every public entry point raises :class:`InputError` (a ``ValueError``) for bad input, naming the
argument and what was expected, so callers can catch one documented type.
"""

from __future__ import annotations


class InputError(ValueError):
    """An argument, array, file or option is not what the API expects."""


class InputTypeError(InputError, TypeError):
    """Input of a type that cannot be used at all (a dict for an array, say); also a ``TypeError``,
    as scikit-learn's estimator checks expect."""


class CheckpointError(InputError):
    """A checkpoint file is missing, truncated, altered or of an unexpected kind."""


class DivergenceError(RuntimeError):
    """Training produced a non-finite loss or parameter."""
