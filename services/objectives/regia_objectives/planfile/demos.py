"""The La Spezia demo dataset: plan files built from the Italian source (see demo/README.md),
shipped as package data so that `regia demo load` works from an installed wheel too."""

from importlib.resources import files


def demo_plans() -> dict[str, str]:
    """File name → plan file text, in name order (which is the plans' chronological order)."""
    folder = files(__package__) / "demo"
    found = sorted((entry.name, entry) for entry in folder.iterdir() if entry.name.endswith(".yaml"))
    return {name: entry.read_text(encoding="utf-8") for name, entry in found}
