"""``python -m sessionspec`` runs the command line."""

import sys

from sessionspec.cli import main

sys.exit(main())
