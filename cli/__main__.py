"""`python -m cli`: the same program as `portal-console` (tests start children this way)."""
import sys

from .main import main

sys.exit(main())
