"""The 2008 plan's money, recorded as history: `regia up --demo` shows its years funded.

The Piano Generale di Sviluppo (2008) covers 2008–2011, years long closed, so its money can
only be on record as history (docs/domain.md): an administrator's import on a `history`
channel, counted in coverage, shown in trees, reviews and exports, and never alerting. The
source gives no figure, so every amount here is illustrative and each line's reason says so
("importo illustrativo"); the sources are the plausible ones for a Comune's plan of those
years:

- POR FESR Liguria 2007–2013: the EU's share (ERDF), at EU level, with Regione Liguria as
  managing authority, and the Region's co-financing, for the urban, environmental,
  innovation and sea-economy objectives;
- FAS 2007–2013 (later FSC), the State's fund for under-used areas, for infrastructure:
  port, former military and industrial areas, mobility, university, broadband;
- the Region's budget for social services, and the Comune's own budget for every objective.

Each objective-year gets a fixed share of its need (FUNDED, PARTIALLY_FUNDED or AT_RISK in a
spread the unit tests check) split over its sources, most of it paid. Line ids and
Idempotency-Keys are fixed, so a re-run replays every submission and records nothing new;
they carry a version: changing an amount here needs a new one (a key sent again with
another body is refused).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from regia_objectives.adapters.planfile import demo_plans, read_plan
from regia_objectives.domain.tree import Node, NodeKind

from .admin import AdminError, ServiceClient

PLAN_FILE = "2008-piano-generale-di-sviluppo.yaml"
KEY_VERSION = "demo-history-v1"
ILLUSTRATIVE = "importo illustrativo"

# Registered beside the demo's other institutions, with a territory like them.
PARTNERS = [
    {
        "partner_id": "commissione-europea",
        "name": "Commissione europea",
        "kind": "INSTITUTION",
        "level": "EU",
        "territory": "Unione europea",
    },
    {
        "partner_id": "ministero-sviluppo-economico",
        "name": "Ministero dello Sviluppo Economico – Dipartimento per le politiche di sviluppo",
        "kind": "INSTITUTION",
        "level": "STATO",
        "territory": "Italia",
    },
]
INSTRUMENTS = [
    {
        "instrument_id": "fesr-por-liguria-2007-2013",
        "institution_id": "commissione-europea",
        "name": "FESR – POR FESR Liguria 2007–2013 (autorità di gestione: Regione Liguria)",
        "kind": "programme",
    },
    {
        "instrument_id": "por-fesr-liguria-2007-2013",
        "institution_id": "regione-liguria",
        "name": "POR FESR Liguria 2007–2013 – cofinanziamento regionale",
        "kind": "programme",
    },
    {
        "instrument_id": "fas-2007-2013",
        "institution_id": "ministero-sviluppo-economico",
        "name": "FAS 2007–2013 (poi FSC) – Programma attuativo regionale Liguria",
        "kind": "fund",
    },
    {
        "instrument_id": "bilancio-regione-liguria",  # the quick start's, created before this
        "institution_id": "regione-liguria",
        "name": "Bilancio regionale della Liguria",
        "kind": "budget",
    },
    {
        "instrument_id": "bilancio-comune-spezia",
        "institution_id": "comune-spezia",
        "name": "Bilancio del Comune della Spezia",
        "kind": "budget",
    },
]


@dataclass(frozen=True)
class Source:
    code: str  # in line ids and keys
    channel: str
    institution_id: str
    instrument_id: str
    reason: str  # formatted with the objective's title and the year


FESR = Source(
    "FESR",
    "history:por-fesr-liguria-2007-2013",
    "commissione-europea",
    "fesr-por-liguria-2007-2013",
    "POR FESR Liguria 2007–2013, quota FESR (autorità di gestione: Regione Liguria), «{title}» {year}",
)
POR_REGIONE = Source(
    "POR",
    "history:por-fesr-liguria-2007-2013",
    "regione-liguria",
    "por-fesr-liguria-2007-2013",
    "POR FESR Liguria 2007–2013, cofinanziamento regionale, «{title}» {year}",
)
FAS = Source(
    "FAS",
    "history:fas-fsc-2007-2013",
    "ministero-sviluppo-economico",
    "fas-2007-2013",
    "FAS 2007–2013 (FSC), Programma attuativo regionale Liguria, «{title}» {year}",
)
REGIONE = Source(
    "REG",
    "history:bilancio-regione-liguria",
    "regione-liguria",
    "bilancio-regione-liguria",
    "Bilancio regionale della Liguria {year}, fondo sociale regionale, «{title}»",
)
COMUNE = Source(
    "COM",
    "history:bilancio-comune-spezia",
    "comune-spezia",
    "bilancio-comune-spezia",
    "Bilancio del Comune della Spezia {year}, «{title}»",
)
SOURCES = (FESR, POR_REGIONE, FAS, REGIONE, COMUNE)

# Per programme: each source's weight in the money of its objectives.
WEIGHTS: dict[str, tuple[tuple[Source, int], ...]] = {
    "pgs2008-trasformazione-waterfront-e-porto": ((FESR, 30), (POR_REGIONE, 10), (FAS, 35), (COMUNE, 25)),
    "pgs2008-trasformazione-aree-dismesse": ((FESR, 25), (POR_REGIONE, 10), (FAS, 40), (COMUNE, 25)),
    "pgs2008-citta-qualita-urbana": ((FESR, 40), (POR_REGIONE, 15), (COMUNE, 45)),
    "pgs2008-citta-mobilita": ((FESR, 20), (POR_REGIONE, 5), (FAS, 40), (COMUNE, 35)),
    "pgs2008-citta-ambiente-energia": ((FESR, 45), (POR_REGIONE, 15), (COMUNE, 40)),
    "pgs2008-citta-cultura-turismo": ((FESR, 35), (POR_REGIONE, 10), (COMUNE, 55)),
    "pgs2008-sapere-universita-ricerca": ((FESR, 35), (POR_REGIONE, 10), (FAS, 30), (COMUNE, 25)),
    "pgs2008-sapere-innovazione": ((FESR, 40), (POR_REGIONE, 10), (FAS, 25), (COMUNE, 25)),
    "pgs2008-sapere-impresa-lavoro": ((FESR, 45), (POR_REGIONE, 15), (COMUNE, 40)),
    "pgs2008-sapere-economia-del-mare": ((FESR, 40), (POR_REGIONE, 10), (FAS, 20), (COMUNE, 30)),
    "pgs2008-qualita-citta-dove-si-sta-bene": ((REGIONE, 35), (COMUNE, 65)),
}
# The share of an objective-year's need that is committed, in per cent: 100 is FUNDED, 80 to
# 99 PARTIALLY_FUNDED and below 80 AT_RISK at the plan's 80 % threshold. Walked with a
# stride, so that each year and each objective gets a mix.
SHARES = (100, 86, 100, 64, 92, 100, 71, 100, 83, 55, 100, 95, 48)
# Of a year's commitment, the per cent paid by the end of the cycle: the later the year, the
# more of it was still being paid when the programmes closed.
PAID = {2008: 100, 2009: 100, 2010: 90, 2011: 75}
ROUND_TO = 100_000  # cents: amounts in whole thousands of euros


@dataclass(frozen=True)
class HistoryLine:
    source: Source
    line_id: str
    objective_id: str
    fiscal_year: int
    committed_cents: int
    disbursed_cents: int
    reason: str

    def events(self) -> list[dict]:
        commitment = {
            "type": "commitment",
            "line_id": self.line_id,
            "instrument_id": self.source.instrument_id,
            "objective_id": self.objective_id,
            "fiscal_year": self.fiscal_year,
            "committed_cents": self.committed_cents,
            "reason": self.reason,
        }
        if not self.disbursed_cents:
            return [commitment]
        paid = {
            "type": "disbursement",
            "line_id": self.line_id,
            "amount_cents": self.disbursed_cents,
            "reason": f"Pagamenti {self.fiscal_year}–{self.fiscal_year + 2}: {ILLUSTRATIVE}",
        }
        return [commitment, paid]


def plan_objectives() -> list[Node]:
    """The 2008 plan's objectives, in file order."""
    plan = read_plan(demo_plans()[PLAN_FILE])
    return [node for node in plan.nodes if node.kind is NodeKind.OBJECTIVE]


def history_lines() -> list[HistoryLine]:
    lines = []
    for i, objective in enumerate(plan_objectives()):
        weights = WEIGHTS[objective.parent_id or ""]
        for k, (year, need) in enumerate(sorted(objective.needs.items())):
            share = SHARES[(i * 4 + k * 3) % len(SHARES)]
            total = need * share // 100 // ROUND_TO * ROUND_TO
            for source, cents in zip([s for s, _ in weights], split(total, [w for _, w in weights]), strict=True):
                if not cents:
                    continue
                reason = source.reason.format(title=objective.title, year=year)
                lines.append(
                    HistoryLine(
                        source,
                        f"PGS2008-{objective.node_id.removeprefix('pgs2008-')}-{year}-{source.code}",
                        objective.node_id,
                        year,
                        cents,
                        cents * PAID[year] // 100 // ROUND_TO * ROUND_TO,
                        f"{reason}: {ILLUSTRATIVE}",
                    )
                )
    return lines


def split(total: int, weights: list[int]) -> list[int]:
    """`total` in parts by weight, each a multiple of ROUND_TO, the last taking the rest, so
    that they add up to the total to the cent."""
    parts = [total * w // sum(weights) // ROUND_TO * ROUND_TO for w in weights[:-1]]
    return [*parts, total - sum(parts)]


def submissions() -> Iterator[tuple[str, list[dict]]]:
    """Per channel, the bulk import's submissions: one per source and objective, all its years."""
    lines = history_lines()
    for channel in dict.fromkeys(s.channel for s in SOURCES):
        grouped: dict[tuple[Source, str], list[HistoryLine]] = {}
        for line in lines:
            if line.source.channel == channel:
                grouped.setdefault((line.source, line.objective_id), []).append(line)
        yield (
            channel,
            [
                {
                    "institution_id": source.institution_id,
                    "idempotency_key": f"{KEY_VERSION}:{objective_id}:{source.code}",
                    "events": [event for line in group for event in line.events()],
                }
                for (source, objective_id), group in grouped.items()
            ],
        )


def record_history(funding: ServiceClient, say: Callable[[str], None]) -> None:
    """Needs the instruments created and funding to know the 2008 plan's objectives
    (demo.load_demo waits for both): one bulk import per channel."""
    outcomes: dict[str, int] = {}
    for channel, sent in submissions():
        answer = funding.request(
            "POST", "/v1/imports/funding-events/bulk", json={"channel": channel, "submissions": sent}, ok=(200,)
        ).json()
        for submission, result in zip(sent, answer["results"], strict=True):
            if result["status"] == "refused":
                raise AdminError(
                    f"the funding service refused the demo's history {submission['idempotency_key']!r}: "
                    f"{result.get('message')} ({result.get('field')}) {result.get('details') or ''}"
                )
            outcomes[result["status"]] = outcomes.get(result["status"], 0) + 1
    say(
        f"2008 plan: {len(history_lines())} history lines on 2008–2011 (POR FESR Liguria 2007–2013, "
        "FAS 2007–2013, the Region's and the Comune's budgets; illustrative amounts, no alerts): "
        + ", ".join(f"{count} submissions {status}" for status, count in sorted(outcomes.items()))
        + "."
    )
