"""What people read: alerts and daily digests, as plain text and HTML, in Italian or English.

Pure: occurrences in, strings out. The words live in `wording`, each kind's content in
`alerts`, the layout (text by hand, HTML by jinja2 templates) in `layout`.
"""

from .digest import DigestSection, render_digest
from .rendering import Rendered, render_alert
from .wording import Language, level_label, money, one_line, percent, status_label, trigger_label

__all__ = [
    "DigestSection",
    "Language",
    "Rendered",
    "level_label",
    "money",
    "one_line",
    "percent",
    "render_alert",
    "render_digest",
    "status_label",
    "trigger_label",
]
