"""An OpenCoesione projects file of any size for the `import` section, written as published
(UTF-8 with a BOM, `;`, CRLF, decimal commas), with money in every money column and the
totals the import must reconcile to.

Plausible rather than uniform: each project's cost is drawn from a wide, skewed range (a
few thousand euros to millions), funded by a few sources drawn with the frequencies of a
regional file (the EU and the fondo di rotazione on most projects, a foreign state or a
port authority on few), split in unequal parts; a project is concluded (paid in full), in
progress (paid in part) or not started (nothing paid). Every row is valid by the import's
rules (the public sources add up to FINANZ_TOTALE_PUBBLICO, payments never exceed the
funding): the benchmark measures recording, not refusing. The same size and tag always
write the same file (a seeded generator), so a run is repeatable.
"""

import csv
import random
from dataclasses import dataclass, field
from pathlib import Path

from regia.operator.opencoesione.reader import PAYMENTS

# The source-of-money columns, each with the share of projects it funds.
SOURCES: dict[str, float] = {
    "FINANZ_UE": 0.60,
    "FINANZ_STATO_FONDO_DI_ROTAZIONE": 0.45,
    "FINANZ_STATO_FSC": 0.25,
    "FINANZ_STATO_PAC": 0.08,
    "FINANZ_STATO_COMPLETAMENTI": 0.05,
    "FINANZ_STATO_ALTRI_PROVVEDIMENTI": 0.10,
    "FINANZ_REGIONE": 0.40,
    "FINANZ_PROVINCIA": 0.10,
    "FINANZ_COMUNE": 0.35,
    "FINANZ_RISORSE_LIBERATE": 0.05,
    "FINANZ_ALTRO_PUBBLICO": 0.06,
    "FINANZ_STATO_ESTERO": 0.04,
    "FINANZ_PRIVATO": 0.12,
}
# Not public money (OpenCoesione's FINANZ_TOTALE_PUBBLICO leaves them out).
NOT_PUBLIC = ("FINANZ_STATO_ESTERO", "FINANZ_PRIVATO")
HEADER = [
    "COD_LOCALE_PROGETTO",
    "CUP",
    "OC_TITOLO_PROGETTO",
    "OC_STATO_PROGETTO",
    "OC_CODICE_PROGRAMMA",
    "DEN_REGIONE",
    "DEN_COMUNE",
    "FINANZ_UE",
    "FINANZ_UE_FESR",
    "FINANZ_UE_FSE",
    *(c for c in SOURCES if c != "FINANZ_UE"),
    "FINANZ_DA_REPERIRE",
    "FINANZ_TOTALE_PUBBLICO",
    "ECONOMIE_TOTALI",
    "IMPEGNI",
    PAYMENTS,
    "OC_DATA_INIZIO_PROGETTO",
    "DATA_AGGIORNAMENTO",
]
TITLES = (
    "RIQUALIFICAZIONE DEL WATERFRONT",
    "MESSA IN SICUREZZA DELLA SCUOLA PRIMARIA",
    "PERCORSO CICLOPEDONALE LUNGO IL FIUME",
    "EFFICIENTAMENTO ENERGETICO DEL MUNICIPIO",
    "BORSE DI RICERCA IN ECONOMIA DEL MARE",
    "FORMAZIONE TECNICI DI CANTIERE NAVALE",
    "BANDA ULTRALARGA AREE INTERNE",
    "ASILO NIDO COMUNALE; NUOVA SEZIONE",
    "DRAGAGGIO DEL BACINO PORTUALE",
    "SOSTEGNO ALLE PMI DELLA FILIERA NAUTICA",
)
COMUNI = ("LA SPEZIA", "SARZANA", "LERICI", "PORTOVENERE", "LEVANTO", "GENOVA", "SAVONA", "IMPERIA")
PROGRAMMES = ("2014IT16RFOP008", "2014IT05SFOP002", "2021PSCLIGURIA", "2014TC16RFCB035")
STATUSES = (("Concluso", 0.35), ("In corso", 0.50), ("Non avviato", 0.15))


@dataclass
class GeneratedFile:
    rows: int = 0
    cents: dict[str, int] = field(default_factory=lambda: {c: 0 for c in (*SOURCES, PAYMENTS)})
    rows_with_money: dict[str, int] = field(default_factory=lambda: {c: 0 for c in (*SOURCES, PAYMENTS)})
    projects: list[str] = field(default_factory=list)  # in file order, for the objective map


def euros(cents: int) -> str:
    return f"{cents // 100},{cents % 100:02d}"


def split(total: int, weights: list[int]) -> list[int]:
    """`total` cents in parts proportional to `weights`, each at least one euro, adding up
    exactly (the last part takes the remainder)."""
    parts = [100 + (total - 100 * len(weights)) * w // sum(weights) for w in weights]
    parts[-1] += total - sum(parts)
    return parts


def project_row(rng: random.Random, tag: str, n: int, forced: str | None, tally: GeneratedFile) -> list[str]:
    code = f"{tag}-{n:07d}"
    chosen = [c for c, share in SOURCES.items() if rng.random() < share]
    if forced and forced not in chosen:
        chosen.append(forced)  # the first rows put money in every column, however small the file
    if not chosen:
        chosen = ["FINANZ_COMUNE"]
    # A cost from about € 5.000 to a few millions, most of them small (log-normal).
    total = max(100 * len(chosen), int(rng.lognormvariate(12.0, 1.3)) * 100 + rng.randrange(100))
    amounts = dict(zip(chosen, split(total, [rng.randint(1, 10) for _ in chosen]), strict=True))
    status = rng.choices([s for s, _ in STATUSES], [w for _, w in STATUSES])[0]
    paid = total if status == "Concluso" else (total * rng.randint(1, 90) // 100 if status == "In corso" else 0)
    public = sum(cents for column, cents in amounts.items() if column not in NOT_PUBLIC)
    eu = amounts.get("FINANZ_UE", 0)
    fse = eu if rng.random() < 0.2 else 0  # FINANZ_UE_FESR/FSE split FINANZ_UE by fund, never added again
    cells = {c: amounts.get(c, 0) for c in SOURCES}
    tally.rows += 1
    tally.projects.append(code)
    for column, cents in (*cells.items(), (PAYMENTS, paid)):
        tally.cents[column] += cents
        tally.rows_with_money[column] += bool(cents)
    year = rng.randint(2015, 2023)
    return [
        code,
        f"D{rng.randint(10, 99)}B{year % 100:02d}{n:09d}",
        f"{rng.choice(TITLES)} - LOTTO {n % 97 + 1}",
        status,
        rng.choice(PROGRAMMES),
        "LIGURIA",
        rng.choice(COMUNI),
        euros(eu),
        euros(eu - fse),
        euros(fse),
        *(euros(cells[c]) for c in SOURCES if c != "FINANZ_UE"),
        "0,00",
        euros(public),
        "0,00",
        euros(max(paid, total * 9 // 10)),
        euros(paid),
        f"{year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}",
        "20241231",
    ]


def write_file(path: Path, rows: int, tag: str, seed: int = 19) -> GeneratedFile:
    """Write `rows` projects, codes `<tag>-0000000` on, and answer what the file holds."""
    rng = random.Random(f"{seed}-{tag}-{rows}")
    tally = GeneratedFile()
    every = list(SOURCES)
    with path.open("w", encoding="utf-8-sig", newline="") as stream:
        writer = csv.writer(stream, delimiter=";", lineterminator="\r\n")
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(project_row(rng, tag, n, every[n] if n < len(every) else None, tally))
    return tally


def write_objective_map(path: Path, projects: list[str], objectives: list[str], seed: int = 19) -> None:
    """Each project to an objective, skewed as a plan is: a few objectives gather many
    projects, most have a handful."""
    rng = random.Random(f"{seed}-map-{len(projects)}")
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write("project;objective_id\r\n")
        for code in projects:
            stream.write(f"{code};{objectives[int(len(objectives) * rng.random() ** 2)]}\r\n")
