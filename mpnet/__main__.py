"""``python -m mpnet``: the ``mpnet`` command (:func:`mpnet.cli.main`)."""
import sys

from .cli import main

if __name__ == "__main__":      # importing this module (e.g. by a docs build) must not run the command
    sys.exit(main())
