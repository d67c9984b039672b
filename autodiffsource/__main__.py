"""``python -m autodiffsource``: the same command line as the ``autodiffsource`` script."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
