"""Every label exists in both languages, and the language is chosen as a reader expects."""

import re
from pathlib import Path

from regia_console import charts
from regia_console.i18n import LABELS, LANGUAGES, choose_language, translator
from regia_console.tree import STATUS_RANK
from regia_shared.contracts.events.objectives import CoverageStatus
from regia_shared.contracts.levels import GovernmentLevel
from regia_shared.contracts.words import LEVEL_WORDS, STATUS_WORDS

TEMPLATES = Path(__file__).parents[2] / "console" / "regia_console" / "templates"


def test_every_label_has_every_language_and_is_not_empty() -> None:
    for key, texts in LABELS.items():
        assert set(texts) == set(LANGUAGES), key
        assert all(text.strip() for text in texts.values()), key


def test_every_key_the_templates_use_is_in_the_dictionary() -> None:
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*["']([a-z_A-Z]+)["']\s*\)""", template.read_text()))
    dynamic = {f"status_{s}" for s in [*STATUS_RANK, "NONE"]} | {f"level_{lv}" for lv in [*charts.LEVELS, "OTHER"]}
    assert used, "no t('...') found: the pattern no longer matches the templates"
    assert not (used | dynamic) - set(LABELS)


def test_the_language_asked_for_wins_then_the_cookie_then_the_browser() -> None:
    assert choose_language("en", "it", "it-IT") == "en"
    assert choose_language(None, "en", "it-IT,it;q=0.9") == "en"
    assert choose_language(None, None, "en-GB,en;q=0.9,it;q=0.5") == "en"
    assert choose_language("fr", "de", "fr-FR") == "it"  # Italian when nothing we speak is asked for


def test_an_unknown_key_shows_itself_rather_than_nothing() -> None:
    assert translator("en")("nav_overview") == "Overview"
    assert translator("it")("no_such_label") == "no_such_label"


def test_statuses_and_levels_read_as_in_the_notifiers_e_mails() -> None:
    """One place for these words (regia_shared.contracts.words): a lead reads the same
    status in an e-mail and on the objective's page it links to."""
    for language in LANGUAGES:
        t = translator(language)
        assert all(t(f"status_{s}") == STATUS_WORDS[language][s] for s in CoverageStatus)
        assert all(t(f"level_{lv}") == LEVEL_WORDS[language][lv] for lv in GovernmentLevel)
    assert translator("en")("status_UNFUNDED") == "not funded" and translator("it")("level_EU") == "UE"


def test_the_console_and_the_notifier_name_each_kind_of_alert_alike() -> None:
    """One table (regia_shared.contracts.words) for both: the console's page of alerts nobody
    received says what the e-mails' summaries say."""
    from regia_notifier.domain.messages import trigger_label
    from regia_notifier.domain.occurrences import Trigger
    from regia_shared.contracts.words import TRIGGER_WORDS

    for language in LANGUAGES:
        t = translator(language)
        assert set(TRIGGER_WORDS[language]) >= {trigger.value for trigger in Trigger}
        for trigger in Trigger:
            assert t(f"trigger_{trigger.value}") == trigger_label(trigger, language) != trigger.value
        assert t("trigger_current_state") == TRIGGER_WORDS[language]["current_state"]
