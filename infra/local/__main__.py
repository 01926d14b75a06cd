"""`python -m infra.local`: run the local runtime in the foreground (see infra/local/runtime.py)."""
from infra.local.runtime import main

raise SystemExit(main())
