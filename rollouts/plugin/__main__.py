"""``python -m rollouts.plugin``: the same as the ``kubectl-rollouts`` executable."""

import sys

from rollouts.plugin import main

sys.exit(main())
