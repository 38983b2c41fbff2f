"""``python -m model``: the command line (see :mod:`model.cli`)."""

import sys

from .cli import main

sys.exit(main())
