"""`python -m transpile ...`: the same as the `transpile` console script."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
