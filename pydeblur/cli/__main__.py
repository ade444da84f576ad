"""``python -m pydeblur.cli``: the ``pydeblur`` command."""

import sys

from . import main

sys.exit(main())
