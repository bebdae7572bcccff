"""What people read: alerts and daily digests, as plain text and HTML, in Italian or English.

Pure: occurrences in, strings out. The words live in `wording`, each kind's content in
`alerts`, a message of several alerts (a grouping window, a digest) in `grouped`, the layout (text by hand, HTML by jinja2 templates) in `layout`.
"""

from .grouped import Carried, render_message
from .rendering import Rendered, render_alert
from .wording import Language, level_label, money, one_line, percent, status_label, trigger_label

__all__ = [
    "Carried",
    "Language",
    "Rendered",
    "level_label",
    "money",
    "one_line",
    "percent",
    "render_alert",
    "render_message",
    "status_label",
    "trigger_label",
]
