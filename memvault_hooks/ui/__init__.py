"""What the user reads: the terminal, progress lines, quoted paths, the run and error logs.

Imports nothing: the hook's no-change path must not pay for what lives here."""
