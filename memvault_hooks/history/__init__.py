"""Reading the vault's past: the history walk, WHEN/REV/FILE arguments, diffs of JSON and
text, blobs, and the restorer that writes a version back.

Imports nothing: the hook's no-change path must not pay for what lives here."""
