"""The project's own error types: what the user gave was wrong (an option, a file, a shape).

``attnpool`` (the command) prints these as one line and exits 2; any other exception is a bug and keeps its
traceback. Each subclasses ``ValueError``, so ``except ValueError`` written before they existed still works.
"""

from __future__ import annotations


class AttnpoolError(ValueError):
    """A problem with the user's input, with a one-line message naming the argument, expected and actual value."""


class ConfigError(AttnpoolError):
    """A training option that is out of range, of the wrong type, or contradicts another one.

    ``key`` names the option (``"epochs"``), so the command line can say ``--epochs`` where Python says
    ``epochs``. Example: ``epochs must be an int, got 2.5 (float)``.
    """

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


class DataError(AttnpoolError):
    """Bad input data: a one-line message naming the file or source and what is wrong with it.

    Example: ``data.npz: x must have 4 axes [S, N, T, F], got shape (10, 30)``.
    """


class RunError(AttnpoolError):
    """A run directory that cannot be used: it is a file, or it already holds a run that would be overwritten."""


class MissingFileError(AttnpoolError, FileNotFoundError):
    """A file or run directory the user named does not exist (also a ``FileNotFoundError``)."""


class TrainingDiverged(RunError):
    """The training loss (or the trained weights) became NaN or infinite; nothing was saved as a model."""


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived (``attnpool`` turns both into this, so no library catches and hides them).

    A ``BaseException``, like ``KeyboardInterrupt``, so that ``except Exception`` does not swallow it. ``kept``
    is filled in on the way out by whoever knows what survived (``fit``: the run directory and how to resume).
    """

    def __init__(self, signum: int):
        import signal

        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.kept: str | None = None


__all__ = ["AttnpoolError", "ConfigError", "DataError", "Interrupted", "MissingFileError", "RunError", "TrainingDiverged"]
