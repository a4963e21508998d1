"""Entry point: ``python -m devstack``."""

from devstack.cli import app

app()
