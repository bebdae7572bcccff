"""A JSON body or message that writes a key twice is refused, wherever the repeat is; the
check walks a parsed value only when its parse met a repeat."""

import json
import threading

import pytest

from regia_shared.http.limits import Unusable, duplicate_key, loads, repeated_key


@pytest.mark.parametrize(
    ("body", "path"),
    [
        (b'{"a": 1, "b": 2}', None),
        (b'{"a": 1, "a": 2}', "a"),
        (b'{"a": 1, "b": {"c": 2, "c": 3}}', "b.c"),
        (b'[{"x": 1}, {"y": 1, "y": 1}]', "1.y"),
        (b'{"events": [{"type": "commitment", "line_id": "L", "line_id": "M"}]}', "events.0.line_id"),
        (b"[]", None),
    ],
)
def test_the_repeated_key_is_named_as_the_full_walk_names_it(body: bytes, path: str | None) -> None:
    assert repeated_key(body) == path == duplicate_key(loads(body))


def test_a_repeat_in_an_earlier_parse_does_not_make_a_later_clean_one_repeated() -> None:
    assert repeated_key(b'{"a": 1, "a": 2}') == "a"
    assert repeated_key(b'{"a": 1}') is None


def test_a_parse_in_another_thread_does_not_hide_this_ones_repeat() -> None:
    seen: list[str | None] = []

    def clean_parses() -> None:
        for _ in range(2000):
            seen.append(repeated_key(b'{"a": 1}'))

    other = threading.Thread(target=clean_parses)
    other.start()
    repeats = [repeated_key(b'{"a": 1, "a": 2}') for _ in range(2000)]
    other.join()
    assert repeats == ["a"] * 2000 and seen == [None] * 2000


def test_what_loads_refuses_is_refused_the_same() -> None:
    with pytest.raises(Unusable):
        repeated_key(b'{"n": ' + b"9" * 40 + b"}")
    with pytest.raises(ValueError):
        repeated_key(b'{"a": ')


@pytest.mark.parametrize(
    "body",
    [
        '{"reason": "Città €", "n": [1, 2.5]}'.encode(),
        '{"reason": "Città €", "n": [1, 2.5]}'.encode("utf-16"),
        '{"reason": "Città €", "n": [1, 2.5]}'.encode("utf-32-le"),
        '{"reason": "Città €", "n": [1, 2.5]}',
        bytearray(b'{"a": {"b": null}}'),
    ],
)
def test_its_decoder_made_once_reads_what_json_loads_reads(body: bytes | str) -> None:
    assert loads(body) == json.loads(body)


def test_text_with_a_byte_order_mark_is_refused_as_json_loads_refuses_it() -> None:
    with pytest.raises(json.JSONDecodeError, match="BOM"):
        loads('\ufeff{"a": 1}')
    with pytest.raises(json.JSONDecodeError, match="BOM"):
        json.loads('\ufeff{"a": 1}')
