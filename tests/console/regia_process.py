"""`regia up --demo` for the console's browser tests: the same process the `regia up`
tests drive (tests/support/regia_up.py), with a known admin token, stopped with
everything below it at the end."""

from pathlib import Path

from ..support.regia_up import RUNNING, RegiaUp

__all__ = ["RUNNING", "RegiaUpDemo"]


class RegiaUpDemo(RegiaUp):
    def __init__(self, data_dir: Path, admin_token: str) -> None:
        # A 3 s grouping window instead of 30: the demo's e-mail, whose links the
        # preferences test opens, comes sooner.
        super().__init__(data_dir, demo=True, admin_token=admin_token, env={"REGIA_NOTIFIER_GROUP_WAIT_S": "3"})

    def stop(self) -> None:  # type: ignore[override]
        self.stop_everything()
