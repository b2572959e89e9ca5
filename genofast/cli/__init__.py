"""The ``genofast`` command line: demo, simulate, train, generate, evaluate, impute, info.

One module per concern: :mod:`._common` (the app, one-line failures, shared
options and readers), :mod:`.data` (info, simulate, evaluate), :mod:`.models`
(train, generate), :mod:`.impute`, :mod:`.demo`. Importing them registers their
commands on ``app``.
"""

from . import data, models, impute, demo  # noqa: F401  (registers the commands, in this order in --help)
from ._common import app

__all__ = ["app", "main"]


def main():  # pragma: no cover - console entry point
    app()
