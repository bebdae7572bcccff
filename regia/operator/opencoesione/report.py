"""The rejection report: one CSV row per rejected project row, written as the import goes,
so that a million-row file never has its refusals held in memory."""

import csv
from typing import TextIO

from regia_funding.domain.exports.cells import spreadsheet_safe

from .reader import RejectedRow

COLUMNS = ("line", "project", "reasons")
REASON_SEPARATOR = " | "


class RejectionReport:
    def __init__(self, stream: TextIO) -> None:
        self._writer = csv.writer(stream)
        self._writer.writerow(COLUMNS)

    def __call__(self, row: RejectedRow) -> None:
        self._writer.writerow(
            [row.line_number, spreadsheet_safe(row.project_code), spreadsheet_safe(REASON_SEPARATOR.join(row.reasons))]
        )
