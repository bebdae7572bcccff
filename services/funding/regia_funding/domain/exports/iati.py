"""The ledger as IATI-style transactions in JSON (IATI Activity Standard 2.03, `transaction`).

Each ledger entry becomes one transaction, seen from the funder's side:

- COMMITMENT, REVISION, REVOCATION, REALLOCATION_OUT, REALLOCATION_IN, ROLLOVER_OUT,
  ROLLOVER_IN, and any kind but DISBURSEMENT: code 2, Outgoing Commitment, valued at the
  signed change of the commitment (a cut is negative, as IATI allows for a reduced one);
- DISBURSEMENT: code 3, Disbursement, valued at the amount paid.

Codes 1 (Incoming Funds) and 11 (Incoming Commitment) would be the receiver's view, and 4
(Expenditure) is spending by the implementer: Regia records neither. The rest of the
mapping: `transaction-date` is the date of the act the entry records when the command gave
one (`act_date`), else the day the entry was recorded (UTC), and `value/@value-date` the
same; `value` is in EUR, written as a decimal string built from the integer cents so that
no JSON reader turns it into a float on the way; `provider-org` is the institution (`ref`
its Regia id, the narrative its name) with the instrument as `provider-activity-id`;
`receiver-org/@receiver-activity-id` is the objective; `description` is the entry's
reason; `ref` is the event id. What IATI has no place for (cents, line, version, level,
fiscal year, the amounts after the entry, the line's CUP and the source's project code and
status, the day recorded) is under the namespaced key `regia:ledger`.
"""

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from .entries import ExportEntry, ExportFormat, euro

OUTGOING_COMMITMENT, DISBURSEMENT = "2", "3"


def transaction_type(kind: str) -> str:
    return DISBURSEMENT if kind == "DISBURSEMENT" else OUTGOING_COMMITMENT


def transaction(e: ExportEntry) -> dict[str, object]:
    code = transaction_type(e.kind)
    cents = e.disbursed_delta_cents if code == DISBURSEMENT else e.committed_delta_cents
    recorded = e.recorded_at.astimezone(UTC).date().isoformat()
    day = e.act_date.isoformat() if e.act_date else recorded
    provider: dict[str, object] = {
        "ref": e.institution_id,
        "narrative": [{"text": e.institution_name or e.institution_id}],
    }
    if e.instrument_id:
        provider["provider-activity-id"] = e.instrument_id
    result: dict[str, object] = {
        "ref": str(e.event_id),
        "transaction-type": {"code": code},
        "transaction-date": {"iso-date": day},
        "value": {"currency": "EUR", "value-date": day, "value": euro(cents)},
        "provider-org": provider,
        "receiver-org": {"receiver-activity-id": e.objective_id},
    }
    if e.reason:
        result["description"] = {"narrative": [{"text": e.reason}]}
    result["regia:ledger"] = {
        "entry-id": e.entry_id,
        "kind": e.kind,
        "value-cents": cents,
        "line-id": e.line_id,
        "line-version": e.line_version,
        "level": e.level,
        "fiscal-year": e.fiscal_year,
        "committed-after-cents": e.committed_after,
        "disbursed-after-cents": e.disbursed_after,
        "counterpart-line-id": e.counterpart_line_id,
        "pushed-by": e.pushed_by,
        "channel": e.channel,
        "recorded-date": recorded,
        "cup": e.cup,
        "source-ref": e.source_ref,
        "source-status": e.source_status,
        "history": e.history,
    }
    return result


def iati_item(e: ExportEntry, index: int) -> str:
    return ("," if index else "") + json.dumps(transaction(e), ensure_ascii=False) + "\n"


def iati_document(generated_at: datetime, filters: Mapping[str, object]) -> ExportFormat:
    """A JSON object whose `transactions` array is streamed one transaction at a time."""
    head = json.dumps(
        {
            "iati-version": "2.03",
            "generated-datetime": generated_at.isoformat(),
            "default-currency": "EUR",
            "filters": filters,
        }
    )
    return ExportFormat(
        media_type="application/json",
        extension="json",
        head=head[:-1] + ', "transactions": [\n',
        item=iati_item,
        tail="]}\n",
    )
