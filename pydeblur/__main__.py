"""``python -m pydeblur``: the ``pydeblur`` command."""

import sys

from .cli import main

sys.exit(main())
