"""`python -m core ...`: the lab headless. See `python -m core --help`."""
import sys

from core.cli import main

sys.exit(main())
