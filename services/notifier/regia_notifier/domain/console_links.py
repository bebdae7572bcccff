"""Where a reader finds an objective in the web console. Pure."""

from urllib.parse import quote


def objective_page(console_url: str, objective_id: str) -> str:
    """The console's page of the objective (its route `/objectives/{objective_id}`), the
    id encoded as one path segment, as the console itself encodes ids: every `/ ? # %`
    and space percent-encoded, and "." or ".." as `%2E` so no client collapses them."""
    encoded = quote(objective_id, safe="")
    if encoded in (".", ".."):
        encoded = encoded.replace(".", "%2E")
    return f"{console_url.rstrip('/')}/objectives/{encoded}"
