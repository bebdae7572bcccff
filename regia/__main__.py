"""`python -m regia`: the same as the `regia` command."""

from .cli import app

app(prog_name="regia")
