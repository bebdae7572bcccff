"""The notifier's messages: each kind of alert and the daily digest, in Italian and English,
as plain text and HTML; hostile titles and names stay on one line and are escaped. Pure."""

import dataclasses
import datetime
import re
import uuid
from email import errors, message_from_bytes, message_from_string, policy

import pytest

from regia_notifier.adapters.smtp import compose
from regia_notifier.domain.addresses import mailbox
from regia_notifier.domain.delivery import ClaimedDelivery
from regia_notifier.domain.errors import Undeliverable, UnusableAddress
from regia_notifier.domain.messages import (
    Carried,
    Language,
    Rendered,
    level_label,
    money,
    percent,
    render_alert,
    render_message,
    status_label,
    trigger_label,
)
from regia_notifier.domain.messages.grouped import Cadence
from regia_notifier.domain.occurrences import (
    FundingDrop,
    LineRevoked,
    Occurrence,
    ReviewClosed,
    StatusChange,
    Trigger,
)
from regia_notifier.domain.preference_links import PreferenceLinks, unsubscribe_kinds
from regia_shared.contracts.events.objectives import CoverageStatus
from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.contracts.preference_links import PreferenceLink, verify

EVENT = "0b6f4a52-3f43-4c39-9d8e-3c8a5c1f0a01"
HOSTILE = "Miglio <script>alert(1)</script>\r\nBcc: victim@example.org"

STATUS = StatusChange(
    objective_id="miglio-blu",
    title="Miglio Blu",
    fiscal_year=2027,
    previous_status=CoverageStatus.PARTIALLY_FUNDED,
    status=CoverageStatus.AT_RISK,
    coverage_bp=4550,
    need_cents=5_000_000_00,
    committed_cents=2_275_000_00,
    at_risk_threshold_pct=80,
)
DROP = FundingDrop(
    objective_id="miglio-blu",
    title="Miglio Blu",
    fiscal_year=2027,
    before_cents=4_000_000_00,
    after_cents=3_000_000_00,
    need_cents=5_000_000_00,
    coverage_bp=6000,
    status=CoverageStatus.PARTIALLY_FUNDED,
)
REVOKED = LineRevoked(
    line_id="L-7",
    objective_id="miglio-blu",
    objective_title="Miglio Blu",
    institution_id="reg-lig",
    institution_name="Regione Liguria",
    fiscal_year=2027,
    revoked_cents=1_000_000_00,
    reason="Bando annullato",
)
REVIEW = ReviewClosed(
    plan_id="psm-2027",
    plan_title="Piano del Mare",
    fiscal_year=2027,
    need_cents=20_000_000_00,
    committed_cents=15_000_000_00,
    disbursed_cents=5_000_000_00,
    coverage_bp=7500,
    nodes_by_status={"FUNDED": 3, "AT_RISK": 1, "UNFUNDED": 0},
    objective_ids=("miglio-blu",),
)


def alert(occurrence: Occurrence, language: Language = "it", name: str = "Maria Rossi") -> Rendered:
    return render_alert(occurrence, language=language, name=name, event_id=EVENT)


def assert_well_formed(r: Rendered, language: Language) -> None:
    assert r.subject.startswith("[Regia] ") and "\n" not in r.subject and "\r" not in r.subject
    assert r.html.startswith("<!doctype html>") and f'<html lang="{language}">' in r.html
    assert "<script>" not in r.html and "<script>" not in r.section_html
    assert r.section_html.lstrip().startswith("<section>")
    assert EVENT in r.text and EVENT in r.html and EVENT in r.section_text and EVENT in r.section_html
    assert r.section_text.splitlines()[0] == r.subject.removeprefix("[Regia] ")


# (occurrence, language, subject, lines the text must hold)
CASES = [
    (
        STATUS,
        "it",
        "[Regia] Miglio Blu 2027: A RISCHIO",
        [
            "Gentile Maria Rossi,",
            "di cui siete capofila",
            "PARZIALMENTE FINANZIATO → A RISCHIO",
            "45,50 %",
            "€ 5.000.000,00",
            "Soglia di rischio:",
            "80 %",
            "Riferimento: obiettivo miglio-blu, evento",
        ],
    ),
    (
        STATUS,
        "en",
        "[Regia] Miglio Blu 2027: at risk",
        [
            "Dear Maria Rossi,",
            "an objective you lead",
            "partially funded → at risk",
            "45.50%",
            "€5,000,000.00",
            "€2,275,000.00",
            "80%",
            "Reference: objective miglio-blu, event",
        ],
    ),
    (
        DROP,
        "it",
        "[Regia] Miglio Blu 2027: finanziamento in calo del 25,00 %",
        [
            "l'impegno finanziario di un obiettivo che seguite è diminuito del 25,00 %.",
            "€ 4.000.000,00",
            "€ 3.000.000,00",
            "€ 1.000.000,00 (25,00 %)",
            "PARZIALMENTE FINANZIATO",
            "60,00 %",
        ],
    ),
    (
        DROP,
        "en",
        "[Regia] Miglio Blu 2027: funding down 25.00%",
        [
            "the committed funding of an objective you follow fell by 25.00%.",
            "Committed before:",
            "Committed now:",
            "Drop:",
            "€4,000,000.00",
            "€3,000,000.00",
            "€1,000,000.00 (25.00%)",
            "Status:           partially funded",
            "60.00%",
        ],
    ),
    (
        REVOKED,
        "it",
        "[Regia] Linea L-7 revocata: Miglio Blu",
        [
            "è stata revocata una linea di finanziamento.",
            "Regione Liguria",
            "€ 1.000.000,00",
            "Motivo:",
            "Bando annullato",
            "Riferimento: linea L-7, obiettivo miglio-blu, evento",
        ],
    ),
    (
        REVOKED,
        "en",
        "[Regia] Line L-7 revoked: Miglio Blu",
        ["a funding line has been revoked.", "Institution:", "Amount revoked:", "Reason:", "€1,000,000.00"],
    ),
    (
        REVIEW,
        "it",
        "[Regia] Riesame annuale 2027 chiuso: Piano del Mare",
        [
            "è stato chiuso il riesame annuale del piano.",
            "Erogato:",
            "€ 5.000.000,00",
            "75,00 %",
            "FINANZIATO 3, A RISCHIO 1",
            "Riferimento: piano psm-2027, evento",
        ],
    ),
    (
        REVIEW,
        "en",
        "[Regia] Annual review 2027 closed: Piano del Mare",
        [
            "the annual review of the plan has been closed.",
            "Disbursed:",
            "€5,000,000.00",
            "75.00%",
            "funded 3, at risk 1",
        ],
    ),
]


@pytest.mark.parametrize(("occurrence", "language", "subject", "lines"), CASES)
def test_each_kind_reads_in_each_language(
    occurrence: Occurrence, language: Language, subject: str, lines: list[str]
) -> None:
    r = alert(occurrence, language)
    assert r.subject == subject
    for line in lines:
        assert line in r.text, line
    assert_well_formed(r, language)
    # The section carries the facts, in text and in HTML, without greeting or footer.
    facts = [line.split(":", 1) for line in r.section_text.splitlines()[1:-1]]  # heading, facts, reference
    assert len(facts) >= 5
    for label, value in facts:
        assert f">{label}</th>" in r.section_html and f">{value.strip()}</td>" in r.section_html
    assert "Maria Rossi" not in r.section_text and "Maria Rossi" not in r.section_html


def test_only_a_status_change_tells_the_reader_they_lead_the_objective() -> None:
    for occurrence in (DROP, REVOKED, REVIEW):
        assert "capofila" not in alert(occurrence, "it").text
        assert "you lead" not in alert(occurrence, "en").text


def test_the_status_change_text_is_what_it_was() -> None:
    text = alert(STATUS, "it").text
    intro = "è cambiato lo stato di finanziamento di un obiettivo di cui siete capofila."
    assert text.splitlines()[:3] == ["Gentile Maria Rossi,", "", intro]
    assert f"{'Obiettivo:':<18} Miglio Blu" in text  # aligned on the longest label, as before
    assert text.endswith(
        "-- \nMessaggio automatico di Regia, la cabina di regia del piano strategico.\n"
        f"Riferimento: obiettivo miglio-blu, evento {EVENT}.\n"
    )


def test_a_line_with_unknown_objective_and_institution_shows_their_ids_and_no_empty_reason() -> None:
    bare = LineRevoked(
        line_id="L-7",
        objective_id="miglio-blu",
        objective_title=None,
        institution_id="reg-lig",
        institution_name=None,
        fiscal_year=2027,
        revoked_cents=100,
        reason=None,
    )
    r = alert(bare, "en")
    assert r.subject == "[Regia] Line L-7 revoked"
    assert "Objective:      miglio-blu" in r.text and "reg-lig" in r.text
    assert "Reason" not in r.text and "Reason" not in r.html


@pytest.mark.parametrize("language", ["it", "en"])
@pytest.mark.parametrize("kind", ["status", "drop", "revoked", "review"])
def test_hostile_titles_and_names_stay_on_one_line_and_are_escaped(kind: str, language: Language) -> None:
    occurrence = {
        "status": StatusChange(**{**STATUS.__dict__, "title": HOSTILE}),
        "drop": FundingDrop(**{**DROP.__dict__, "title": HOSTILE}),
        "revoked": LineRevoked(
            **{**REVOKED.__dict__, "objective_title": HOSTILE, "reason": HOSTILE, "institution_name": HOSTILE}
        ),
        "review": ReviewClosed(**{**REVIEW.__dict__, "plan_title": HOSTILE}),
    }[kind]
    r = alert(occurrence, language, name="Eve <b>\r\nBcc: x@example.org")
    assert "\r" not in r.subject and "\n" not in r.subject
    assert "Miglio <script>alert(1)</script> Bcc: victim@example.org" in r.subject
    assert "\r" not in r.text and not any(line.startswith("Bcc") for line in r.text.splitlines())
    for html in (r.html, r.section_html):
        assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>" not in r.html and "Eve &lt;b&gt; Bcc: x@example.org" in r.html


def digest_of(*occurrences: Occurrence, language: Language = "it", name: str = "Maria Rossi") -> Rendered:
    carried = [Carried(o, str(uuid.uuid4()), f"corr-{i}") for i, o in enumerate(occurrences)]
    d = render_message(carried, language=language, name=name, cadence="daily_digest", day=datetime.date(2026, 11, 5))
    assert d is not None
    return d


def test_a_digest_of_one_alert_says_so_in_the_singular() -> None:
    it, en = digest_of(REVOKED), digest_of(REVOKED, language="en")
    assert it.subject == "[Regia] Riepilogo del 05/11/2026: 1 avviso"
    assert en.subject == "[Regia] Digest for 2026-11-05: 1 alert"
    assert "1 avviso" in it.text and "1 alert" in en.text
    assert "Linea" in it.text and "----------" not in it.text.split("-- \n")[0]  # no rule with a single section
    assert it.section_text == "" and it.section_html == ""


def test_a_weekly_digest_says_it_is_the_weeks() -> None:
    carried = [Carried(REVOKED, EVENT, "corr")]
    it = render_message(carried, language="it", name="M", cadence="weekly_digest", day=datetime.date(2026, 11, 30))
    en = render_message(carried, language="en", name="M", cadence="weekly_digest", day=datetime.date(2026, 11, 30))
    assert it is not None and en is not None
    assert it.subject == "[Regia] Riepilogo della settimana al 30/11/2026: 1 avviso"
    assert en.subject == "[Regia] Weekly digest to 2026-11-30: 1 alert"


@pytest.mark.parametrize("language", ["it", "en"])
def test_a_digest_holds_its_sections_in_order_in_text_and_html(language: Language) -> None:
    d = digest_of(STATUS, REVOKED, REVIEW, language=language)
    assert d.subject.endswith(": 3 avvisi" if language == "it" else ": 3 alerts")
    assert d.text.startswith("Gentile Maria Rossi," if language == "it" else "Dear Maria Rossi,")
    assert f'<html lang="{language}">' in d.html and d.html.startswith("<!doctype html>")
    headings = ["Miglio Blu 2027:", alert(REVOKED, language).subject[len("[Regia] ") :], "Piano del Mare"]
    positions = [d.text.index(h) for h in headings]
    assert positions == sorted(positions)
    assert d.text.count("-" * 40) == 2  # one rule between each two sections
    assert d.html.count("<section>") == 3 and "Regia" in d.text.split("-- \n")[1]


def test_a_digest_escapes_the_name_and_keeps_the_subject_on_one_line() -> None:
    d = render_message(
        [Carried(REVOKED, EVENT, "c")],
        language="en",
        name="<i>Eve</i>\r\nX",
        cadence="daily_digest",
        day=datetime.date(2026, 1, 2),
    )
    assert d is not None and d.subject == "[Regia] Digest for 2026-01-02: 1 alert"
    assert "<i>" not in d.html and "&lt;i&gt;Eve&lt;/i&gt; X" in d.html and "Dear <i>Eve</i> X," in d.text


# Every code a contract carries, as a whole word ("EU" is also its own English word).
CODES = re.compile(
    r"\b("
    + "|".join(
        sorted({*CoverageStatus, *(lv for lv in GovernmentLevel if lv != "EU"), *Trigger}, key=len, reverse=True)
    )
    + r")\b"
)


def every_variant() -> list[Occurrence]:
    variants: list[Occurrence] = [REVOKED, dataclasses.replace(STATUS, previous_status=None)]
    for status in CoverageStatus:
        for previous in CoverageStatus:
            variants.append(dataclasses.replace(STATUS, status=status, previous_status=previous))
        variants.append(dataclasses.replace(DROP, status=status))
    every_count = {s.value: 1 for s in CoverageStatus}
    return variants + [dataclasses.replace(REVIEW, nodes_by_status=every_count)]


@pytest.mark.parametrize("language", ["it", "en"])
def test_no_message_shows_a_code_in_either_language(language: Language) -> None:
    """Before: an English reader got "PARTIALLY_FUNDED → AT_RISK" and "FUNDED 3, AT_RISK 1"."""
    rendered = [alert(o, language) for o in every_variant()]
    rendered.append(digest_of(*every_variant(), language=language))
    for r in rendered:
        for part in (r.subject, r.text, r.html, r.section_text, r.section_html):
            assert not CODES.search(part), (CODES.search(part), r.subject)


def test_english_statuses_read_as_words_and_italian_ones_as_before() -> None:
    english = {s: status_label(s, "en") for s in CoverageStatus}
    assert english == {
        CoverageStatus.FUNDED: "funded",
        CoverageStatus.PARTIALLY_FUNDED: "partially funded",
        CoverageStatus.AT_RISK: "at risk",
        CoverageStatus.UNFUNDED: "not funded",
        CoverageStatus.NO_NEED: "no need declared",
    }
    assert [status_label(s, "it") for s in CoverageStatus] == [
        "FINANZIATO",
        "PARZIALMENTE FINANZIATO",
        "A RISCHIO",
        "NON FINANZIATO",
        "SENZA FABBISOGNO",
    ]


def test_money_and_percentages_are_written_as_the_readers_language_writes_them() -> None:
    """Before: English mails wrote "€ 5.000.000,00", the Italian way."""
    assert money(123456789, "it") == "€ 1.234.567,89" and money(123456789, "en") == "€1,234,567.89"
    assert money(5, "en") == "€0.05" and money(-100, "it") == "-€ 1,00"
    assert percent(3333, "it") == "33,33 %" and percent(3333, "en") == "33.33%"
    en, it = alert(DROP, "en"), alert(DROP, "it")
    assert "€1,000,000.00 (25.00%)" in en.text and "€1,000,000.00 (25.00%)" in en.html
    assert "€ 1.000.000,00 (25,00 %)" in it.text and "€ 1.000.000,00 (25,00 %)" in it.html
    assert not re.search(r"\d\.\d{3}\.\d{3},\d\d", en.text + en.html)


def test_levels_and_kinds_of_alert_have_words_in_both_languages() -> None:
    italian = [level_label(lv, "it") for lv in GovernmentLevel]
    assert italian == [
        *("Comune", "Provincia", "Regione", "Stato", "UE", "Privati"),
        *("Altro ente pubblico", "Stato estero"),
    ]
    english = [level_label(lv, "en") for lv in GovernmentLevel]
    assert english == [
        *("Municipality", "Province", "Region", "State", "EU", "Private"),
        *("Other public body", "Foreign state"),
    ]
    for words in (italian, english):
        assert len(set(words)) == len(words) and not any(CODES.search(w) or "_" in w for w in words)
    assert level_label("CITTA_METROPOLITANA", "it") == "CITTA_METROPOLITANA"  # unknown: shown as sent
    for language in ("it", "en"):
        words = [trigger_label(t, language) for t in Trigger]
        assert len(set(words)) == len(Trigger) and not any(CODES.search(w) or "_" in w for w in words)
    assert trigger_label(Trigger.FUNDING_DROPPED, "it") == "finanziamento in calo"
    assert trigger_label(Trigger.LINE_REVOKED, "en") == "line revoked"


def claimed(body_html: str | None) -> ClaimedDelivery:
    return ClaimedDelivery(
        delivery_id=uuid.uuid4(),
        attempt=1,
        cause_event_id=uuid.UUID(EVENT),
        correlation_id="c-1",
        channel="email",
        recipient="maria@example.org",
        recipient_name="Maria Rossi",
        language="it",
        subject="[Regia] Prova",
        body="Testo è qui\n",
        body_html=body_html,
    )


def test_an_e_mail_with_html_is_multipart_alternative_plain_text_first() -> None:
    r = alert(STATUS)
    sent = compose(claimed(r.html), "Regia <regia@example.org>")
    parsed = message_from_bytes(sent, policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert all(p.get_content_charset() == "utf-8" for p in parsed.iter_parts())
    assert parsed.get_body(("html",)).get_content() == r.html
    for header in ("Message-ID", "X-Regia-Event-Id", "X-Regia-Delivery-Id", "Auto-Submitted"):
        assert parsed[header], header
    assert parsed["Content-Language"] == "it"


def test_an_e_mail_without_html_stays_plain_text() -> None:
    parsed = message_from_bytes(compose(claimed(None), "regia@example.org"), policy=policy.default)
    assert parsed.get_content_type() == "text/plain" and parsed["Content-Language"] == "it"
    assert parsed.get_content() == "Testo è qui\n"


def test_an_e_mail_is_well_formed_mime_with_encoded_headers_and_crlf_lines() -> None:
    delivery = dataclasses.replace(
        claimed("<p>Città</p>\n"),
        recipient_name='Ufficio Piàno, "Sud"',
        subject="[Regia] Obiettivo a rischio:" + " perché la copertura è scesa" * 6,
    )
    sent = compose(delivery, "Regìa <regia@example.org>")
    assert b"\n" not in sent.replace(b"\r\n", b"")  # every line ends in CRLF
    assert all(len(line) <= 998 for line in sent.split(b"\r\n"))
    parsed = message_from_bytes(sent, policy=policy.default)
    assert not parsed.defects and all(not p.defects for p in parsed.iter_parts())
    assert parsed["Subject"] == delivery.subject  # folded and encoded, read back whole
    assert parsed["To"].addresses[0].display_name == 'Ufficio Piàno, "Sud"'
    assert parsed["To"].addresses[0].addr_spec == "maria@example.org"
    assert parsed["From"].addresses[0].display_name == "Regìa"
    assert parsed["Message-ID"] == f"<{delivery.delivery_id}@example.org>"
    assert parsed.get_body(("plain",)).get_content() == "Testo è qui\n"
    assert parsed.get_body(("html",)).get_content() == "<p>Città</p>\n"


# (registered, envelope RCPT, address in To, needs SMTPUTF8)
INTERNATIONAL = [
    ("maria@example.org", "maria@example.org", "maria@example.org", False),
    ("info@città.it", "info@xn--citt-3na.it", "info@xn--citt-3na.it", False),
    ("josé@comune.it", "josé@comune.it", "josé@comune.it", True),
    ("用户@例子.广告", "用户@xn--fsqu00a.xn--4rr70v", "用户@例子.广告", True),
    ("müller@straße.de", "müller@xn--strae-oqa.de", "müller@straße.de", True),  # IDNA 2008: ß kept
]


@pytest.mark.parametrize(("registered", "envelope", "header", "smtputf8"), INTERNATIONAL)
def test_an_internationalised_address_is_written_as_it_can_be_sent(
    registered: str, envelope: str, header: str, smtputf8: bool
) -> None:
    box = mailbox(registered)
    assert (box.envelope, box.header, box.smtputf8) == (envelope, header, smtputf8)
    delivery = dataclasses.replace(claimed("<p>Città</p>\n"), recipient=registered, recipient_name='José Pérez, "Sud"')
    sent = compose(delivery, "Regìa <regia@città.it>")
    assert b"\n" not in sent.replace(b"\r\n", b"")
    # Only a non-ASCII local part makes the message UTF-8 (RFC 6532, sent with SMTPUTF8);
    # an internationalised domain alone leaves it ASCII, which any server takes.
    assert sent.isascii() is not smtputf8
    parsed = (
        message_from_string(sent.decode("utf-8"), policy=policy.default)
        if smtputf8
        else message_from_bytes(sent, policy=policy.default)
    )
    assert not parsed.defects and all(not p.defects for p in parsed.iter_parts())
    to = parsed["To"]
    assert to.addresses[0].addr_spec == header and to.addresses[0].display_name == 'José Pérez, "Sud"'
    # The email package predates RFC 6532 and flags a UTF-8 local part; nothing else.
    assert all(isinstance(d, errors.NonASCIILocalPartDefect) for d in to.defects) and bool(to.defects) is smtputf8
    assert b"=?utf-8?" in sent.split(b"\r\nTo: ")[1].split(b"\r\n")[0]  # the name stays RFC 2047
    assert parsed["From"].addresses[0].addr_spec == "regia@xn--citt-3na.it"
    assert parsed["From"].addresses[0].display_name == "Regìa"
    assert parsed["Message-ID"] == f"<{delivery.delivery_id}@xn--citt-3na.it>"
    assert parsed.get_body(("html",)).get_content() == "<p>Città</p>\n"


@pytest.mark.parametrize(
    "address",
    [
        "no-at-sign",
        "@example.org",
        "maria@",
        "maria@exa mple.org",
        "maria@example.org\r\nBcc: x@evil.example",
        "maria@città..it",
        "maria@a\u200b.it",
        "maria@" + "é" * 70 + ".it",
    ],
)
def test_an_address_that_cannot_be_written_is_undeliverable_not_an_internal_error(address: str) -> None:
    with pytest.raises(UnusableAddress) as refused:
        compose(dataclasses.replace(claimed(None), recipient=address), "regia@example.org")
    assert isinstance(refused.value, Undeliverable) and repr(address) in str(refused.value)


def test_an_e_mail_to_a_contact_says_how_to_unsubscribe_in_one_click() -> None:
    """RFC 2369 and RFC 8058: the URL in angle brackets, and the POST body a mail client's
    unsubscribe button sends to it. Nothing in REGIA_CONSOLE_URL can break the header."""
    url = "https://regia.example.org/unsubscribe/1.abc.def"
    parsed = message_from_bytes(compose(claimed(None), "regia@example.org", url), policy=policy.default)
    assert parsed["List-Unsubscribe"] == f"<{url}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert parsed.get_content() == "Testo è qui\n"
    odd = compose(claimed(None), "regia@example.org", "https://x.example/a b>\r\nBcc: v@x.example/unsubscribe/t")
    header = message_from_bytes(odd, policy=policy.default)
    assert (
        header["Bcc"] is None
        and header["List-Unsubscribe"] == "<https://x.example/a%20b%3E%0D%0ABcc:%20v@x.example/unsubscribe/t>"
    )
    # Without a contact (a webhook's delivery, a message to nobody in particular): none.
    bare = message_from_bytes(compose(claimed(None), "regia@example.org"), policy=policy.default)
    assert bare["List-Unsubscribe"] is None and bare["List-Unsubscribe-Post"] is None


def test_a_one_click_link_stops_its_kind_of_alert_and_a_digests_stops_them_all() -> None:
    links = PreferenceLinks(b"k" * 32, "https://regia.example.org/")
    today = datetime.date(2026, 11, 26)
    assert "k" * 32 not in repr(links)

    def read(url: str, purpose: str) -> PreferenceLink:
        prefix = f"https://regia.example.org/{purpose}/"
        assert url.startswith(prefix)
        return verify(url.removeprefix(prefix), (b"k" * 32,), today=today, max_age_days=365)

    assert read(links.unsubscribe("rossi", unsubscribe_kinds("alert", "funding_dropped"), today), "unsubscribe") == (
        PreferenceLink("rossi", "unsubscribe", ("funding_dropped",), today)
    )
    # The state told to a new lead follows the status changes, as its preferences do.
    assert unsubscribe_kinds("alert", "current_state") == ("status_changed",)
    assert unsubscribe_kinds("digest", None) is None
    assert read(links.preferences_page("rossi", today), "preferences") == PreferenceLink(
        "rossi", "preferences", None, today
    )


@pytest.mark.parametrize("cadence", ["immediate", "daily_digest", "weekly_digest"])
@pytest.mark.parametrize("occurrences", [(STATUS,), (REVOKED,), (STATUS, REVOKED)])
def test_every_message_links_its_readers_preferences_page_once(
    cadence: Cadence, occurrences: tuple[Occurrence, ...]
) -> None:
    url = "https://regia.example.org/preferences/1.abc.def"
    carried = [Carried(o, EVENT, "corr") for o in occurrences]
    d = render_message(
        carried, language="en", name="Maria", cadence=cadence, day=datetime.date(2026, 11, 5), preferences_url=url
    )
    assert d is not None
    assert d.text.count(url) == 1 and d.text.split("-- \n")[1].endswith(
        f"Choose which alerts you get and when, or stop them: {url}\n"
    )
    assert d.html.count(f'href="{url}"') == 1
    plain = render_message(carried, language="en", name="Maria", cadence=cadence, day=datetime.date(2026, 11, 5))
    assert plain is not None and "/preferences/" not in plain.text + plain.html
