"""``python -m skmem``: the command line."""

import sys

from skmem.cli import main

sys.exit(main())
