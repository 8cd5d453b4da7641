"""`python -m userpkg` runs the CLI."""

from userpkg.cli.main import app

app()
