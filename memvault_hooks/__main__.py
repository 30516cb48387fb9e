from __future__ import annotations

from memvault_hooks.main import main

raise SystemExit(main())
