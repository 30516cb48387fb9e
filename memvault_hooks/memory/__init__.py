"""The live memory files of the project: finding them (sources, patterns, presets), reading
them safely and in bounded memory (safe_open, formats, bounded_json, SQLite and MCP
stores), watching them, and scanning them for secrets before they are stored.

Imports nothing: the hook's no-change path must not pay for what lives here."""
