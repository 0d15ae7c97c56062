"""``python -m apophis_sim.cli``: the same as the ``apophis-sim`` command."""

import sys

from . import main

sys.exit(main())
