"""`python -m core ...`: the lab headless. See `python -m core --help`."""
import sys

from core.cli import main

if __name__ == "__main__":  # a spawned worker (sweep --executor process) re-imports this module
    sys.exit(main())
