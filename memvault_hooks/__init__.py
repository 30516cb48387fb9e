"""memvault-hooks: versioned, recoverable backups of AI-agent memory files."""
from __future__ import annotations

__version__ = "0.1.0"
