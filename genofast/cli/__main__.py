"""``python -m genofast.cli``: the command line, for launchers that take a module (``torchrun -m``)."""

from . import main

main()
