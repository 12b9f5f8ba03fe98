"""The terminal-safety boundary: every hostile string is shown, nothing acts on a terminal."""

from __future__ import annotations

import io
import json

import pytest

from kubectl_trace.textsafe import LINE_LIMIT, json_escape_controls, safe_bytes, safe_text, visible
from tests.hostile import CORPUS, INVALID_UTF8, assert_terminal_safe


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_every_corpus_entry_is_made_visible(name: str) -> None:
    shown = safe_text(CORPUS[name])
    assert_terminal_safe(shown)
    assert shown != CORPUS[name]


def test_the_convention_matches_prompt_toolkit() -> None:
    from prompt_toolkit.layout.screen import Char

    for code in (*range(0x00, 0x09), *range(0x0B, 0x0D), *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0)):
        char = chr(code)
        assert visible(f"a{char}b") == f"a{Char.display_mappings[char]}b"


def test_examples() -> None:
    assert visible("\x1b]52;c;ZQ==\x1b\\") == "^[]52;c;ZQ==^[\\"
    assert visible("\x9b2J") == "<9b>2J"
    assert visible("a\u202eb\u2066c") == "a<202e>b<2066>c"
    assert visible("nul\x00") == "nul^@"
    assert visible("rub\x7f") == "rub^?"


def test_tab_newline_and_plain_text_pass_unchanged() -> None:
    text = "GET /orders\tstatus=200\nnext line é ✓ 日本"
    assert visible(text) == text
    plain = "plain"
    assert visible(plain) is plain


def test_a_cr_may_end_a_line_but_not_overwrite_one() -> None:
    assert visible("windows line\r") == "windows line"
    assert visible("one\r\ntwo\r\n") == "one\ntwo\n"
    assert visible("harmless\rEVIL") == "harmless^MEVIL"


def test_invalid_utf8_and_lone_surrogates_become_replacement_characters() -> None:
    shown = safe_bytes(INVALID_UTF8)
    assert "\ufffd" in shown and "end" in shown
    assert visible(json.loads('"a\\ud800b"')) == "a\ufffdb"
    safe_text(json.loads('"a\\udfffb"')).encode("utf-8")  # writable: no lone surrogate left


def test_long_lines_are_cut_with_a_marker_and_the_size() -> None:
    long = "x" * 10_240
    shown = safe_text(f"short\n{long}\nend")
    first, cut, last = shown.split("\n")
    assert (first, last) == ("short", "end")
    assert cut.startswith("x" * LINE_LIMIT) and cut.endswith("…[line cut: 10240 bytes]")
    assert len(cut) < LINE_LIMIT + 40
    assert safe_text(long, limit=None) == long
    assert safe_text("é" * 5000).endswith("[line cut: 10000 bytes]")


def test_json_escapes_what_json_leaves_raw_and_keeps_values_equal() -> None:
    value = {"m": "del\x7f c1\x9b bidi\u202e sep\u2028 esc\x1b é"}
    encoded = json_escape_controls(json.dumps(value, ensure_ascii=False))
    assert_terminal_safe(encoded)
    assert "é" in encoded
    assert json.loads(encoded) == value
    assert json_escape_controls('{"a":"b"}') == '{"a":"b"}'


def test_the_safe_console_shows_controls_but_keeps_our_colours() -> None:
    from rich.text import Text

    from kubectl_trace.safe_console import SafeConsole

    out = io.StringIO()
    console = SafeConsole(file=out, force_terminal=True, color_system="truecolor", width=200)
    for text in CORPUS.values():
        console.print(Text(text, style="bold red"))
    written = out.getvalue()
    assert_terminal_safe(written, colors=True)
    assert "\x1b[1;31m" in written
    assert "^[]52;c;" in written and "<9b>2J" in written
