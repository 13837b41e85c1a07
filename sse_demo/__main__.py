"""Entry point for ``python -m sse_demo``."""

import sys

from sse_demo.cli import main

sys.exit(main())
