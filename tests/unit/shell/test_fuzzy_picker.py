"""Fuzzy matching and the prompt_toolkit picker driven through a pipe input."""

import pytest
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from kubectl_trace.shell.fuzzy import fuzzy_filter, fuzzy_match
from kubectl_trace.shell.picker import PickerState, pick_pod, render_rows
from kubectl_trace.shell.pods import pod_row
from tests.factories.picker import NOW, pod

PODS = [
    pod("trace-api-web-5d4f8b9c7-x2k9p", tag="3f9c2a1"),
    pod("trace-api-web-5d4f8b9c7-q8m4z", tag="3f9c2a1", restarts=3),
    pod("trace-api-worker-6c8d7f5b4-h7t2w", deployment="trace-api-worker", process="worker"),
    pod("trace-api-clock-7b9c6d8e5-n4v6r", deployment="trace-api-clock", process="clock"),
    pod("trace-ui-web-8d7f6e5c4-k3j2h", deployment="trace-ui-web", tag="a41c9e7"),
]
ROWS = [pod_row(p, NOW) for p in PODS]


def test_subsequence_in_order_is_required():
    assert fuzzy_match("wrk", "trace-api-worker") is not None
    assert fuzzy_match("krw", "trace-api-worker") is None
    assert fuzzy_match("", "anything") == (0, ())


def test_positions_point_at_the_matched_characters():
    text = "trace-api-worker-6c8d"
    _score, positions = fuzzy_match("worker", text)
    assert "".join(text[p] for p in positions) == "worker"
    assert positions == tuple(range(10, 16))  # the contiguous word, not scattered letters


def test_word_starts_and_runs_rank_higher():
    hits = fuzzy_filter("web", ["trace-api-worker-eb", "trace-api-web-x"], lambda s: s)
    assert hits[0].item == "trace-api-web-x"
    hits = fuzzy_filter("tuw", ["trace-api-web-x", "trace-ui-web-y"], lambda s: s)
    assert hits[0].item == "trace-ui-web-y"  # t(race) u(i) w(eb): three word starts


def test_smart_case():
    assert fuzzy_match("Web", "trace-api-web") is None
    assert fuzzy_match("web", "trace-api-WEB") is not None


def test_filter_keeps_input_order_for_equal_scores_and_drops_non_matches():
    items = ["b-web", "a-web", "worker"]
    assert [m.item for m in fuzzy_filter("web", items, lambda s: s)] == ["b-web", "a-web"]


def test_picker_state_filters_moves_and_wraps():
    state = PickerState(ROWS)
    assert len(state.matches) == len(ROWS)
    state.filter("clock")
    assert state.current.name == "trace-api-clock-7b9c6d8e5-n4v6r"
    state.filter("web")
    assert {m.item.name for m in state.matches} >= {ROWS[0].name, ROWS[1].name, ROWS[4].name}
    first = state.current
    state.move(-1)
    assert state.current is state.matches[-1].item and state.current is not first
    state.filter("zzzz")
    assert state.current is None


def test_rendered_rows_show_the_columns():
    state = PickerState(ROWS)
    text = "".join(t for _, t in render_rows(state, height=10))
    lines = text.splitlines()
    assert lines[0].split() == ["POD", "PROCESS", "READY", "RESTARTS", "AGE", "IMAGE"]
    assert lines[1].startswith("> trace-api-web-5d4f8b9c7-x2k9p")
    row = lines[2].split()
    assert (
        row[0] == "trace-api-web-5d4f8b9c7-q8m4z" and row[1:4] == ["web", "1/1", "3"] and row[5] == "3f9c2a1"
    )


def run_picker(*chunks: str):
    with create_pipe_input() as pipe:
        for chunk in chunks:
            pipe.send_text(chunk)
        return pick_pod(ROWS, input=pipe, output=DummyOutput())


@pytest.mark.parametrize(
    ("typed", "chosen"),
    [
        ("worker\r", "trace-api-worker-6c8d7f5b4-h7t2w"),
        ("n4v\r", "trace-api-clock-7b9c6d8e5-n4v6r"),
        ("ui\r", "trace-ui-web-8d7f6e5c4-k3j2h"),
        ("q8m\r", "trace-api-web-5d4f8b9c7-q8m4z"),
        ("\r", "trace-api-web-5d4f8b9c7-x2k9p"),
    ],
)
def test_typing_part_of_a_name_and_enter_selects_that_pod(typed, chosen):
    assert run_picker(typed) == chosen


def test_arrow_keys_move_the_selection():
    assert run_picker("\x1b[B", "\x1b[B", "\r") == "trace-api-worker-6c8d7f5b4-h7t2w"
    assert run_picker("\x1b[A", "\r") == "trace-ui-web-8d7f6e5c4-k3j2h"


def test_enter_with_no_match_does_nothing_until_the_query_matches():
    assert run_picker("zzz\r", "\x7f\x7f\x7fclock\r") == "trace-api-clock-7b9c6d8e5-n4v6r"


@pytest.mark.parametrize("key", ["\x03", "\x04"])
def test_ctrl_c_and_ctrl_d_cancel(key):
    assert run_picker(key) is None
