"""``python -m sessionspec`` runs the command line."""

import sys

from sessionspec.cli.app import main

sys.exit(main())
