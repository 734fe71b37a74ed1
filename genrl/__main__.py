"""``python -m genrl``: the ``genrl`` command."""

import sys

from genrl.cli import main

sys.exit(main())
