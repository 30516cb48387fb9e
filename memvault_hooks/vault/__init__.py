"""The vault machinery: the vault repository and its branch, the git runner and its
scrubbed environment, the remote, replay and clone, packing, the state record and the
stat cache, the backup step that commits, snapshots, encryption of the remote.

Imports nothing: the hook's no-change path must not pay for what lives here."""
