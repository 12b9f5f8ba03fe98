import re

from kubectl_trace.logs.filters import EntryFilter
from kubectl_trace.logs.group import Grouper, is_continuation
from kubectl_trace.logs.merge import TimeMerger
from kubectl_trace.logs.record import Entry, Marker, Source

A = Source("ns", "a", "c", "1")
B = Source("ns", "b", "c", "1")


def ts(second, frac=0):
    return f"2026-01-02T15:04:{second:02d}.{frac:09d}Z"


def entries_texts(out):
    return [(e.source.pod, e.raw) for e in out]


def test_continuation_rule():
    assert is_continuation("    at x") and is_continuation("\tat x")
    assert not is_continuation("Error: x") and not is_continuation("") and not is_continuation("{}")


def test_stack_trace_lines_stay_one_entry_even_interleaved_with_other_streams():
    out = []
    g = Grouper(out.append)
    g.add(Entry(A, ts(1), "TypeError: boom"))
    g.add(Entry(B, ts(1), '{"level":"info","message":"b1"}'))
    g.add(Entry(A, ts(1), "    at f (a.js:1:1)"))
    g.add(Entry(A, ts(1), "    at g (a.js:2:1)"))
    g.add(Entry(A, ts(2), "next line"))
    assert entries_texts(out) == [
        ("b", '{"level":"info","message":"b1"}'),
        ("a", "TypeError: boom\n    at f (a.js:1:1)\n    at g (a.js:2:1)"),
    ]
    g.flush_all()
    assert entries_texts(out)[-1] == ("a", "next line")


def test_json_lines_are_never_held_and_end_a_group():
    out = []
    g = Grouper(out.append)
    g.add(Entry(A, ts(1), "plain"))
    g.add(Entry(A, ts(1), '{"message":"j"}'))
    assert entries_texts(out) == [("a", "plain"), ("a", '{"message":"j"}')]
    assert g.pending == 0


def test_indented_line_without_a_held_line_stands_alone():
    out = []
    g = Grouper(out.append)
    g.add(Entry(A, ts(1), '{"message":"j"}'))
    g.add(Entry(A, ts(1), "   indented"))
    g.flush_source(A)
    assert entries_texts(out) == [("a", '{"message":"j"}'), ("a", "   indented")]


def test_hold_expires():
    out = []
    g = Grouper(out.append, hold=0.05)
    g.add(Entry(A, ts(1), "plain", arrival=10.0))
    g.add(Entry(B, ts(1), "plain b", arrival=10.04))
    assert g.flush_due(10.02) == 10.05
    assert out == []
    assert g.flush_due(10.06) == 10.09
    assert entries_texts(out) == [("a", "plain")]


def test_group_is_cut_at_max_lines():
    out = []
    g = Grouper(out.append, max_lines=3)
    g.add(Entry(A, ts(1), "Error"))
    for i in range(5):
        g.add(Entry(A, ts(1), f"  at {i}"))
    g.flush_all()
    assert [e.line_count for e in out] == [4, 2]


def test_level_filter_hides_lower_and_levelless_lines():
    f = EntryFilter(level="warn")
    keep = [
        '{"level":"warn","message":"w"}',
        '{"severity":"ERROR","message":"e"}',
        '{"level":60,"msg":"f"}',
        "TypeError: plain error",
    ]
    drop = [
        '{"level":"info","message":"i"}',
        '{"level":20,"msg":"d"}',
        "Server listening",
        '{"message":"no level"}',
    ]
    assert all(f.accepts(Entry(A, "", t)) for t in keep)
    assert not any(f.accepts(Entry(A, "", t)) for t in drop)


def test_include_exclude_search_every_line_of_an_entry():
    f = EntryFilter(include=[re.compile("orders"), re.compile("payments")], exclude=[re.compile("healthz")])
    e = Entry(A, "", "Error: failed")
    e.more = [("", "    at /app/orders.js:1:1")]
    assert f.accepts(e)
    assert f.accepts(Entry(A, "", "GET /payments"))
    assert not f.accepts(Entry(A, "", "GET /orders/healthz"))
    assert not f.accepts(Entry(A, "", "GET /users"))
    assert not EntryFilter().active and f.active


def item(source, second, text, arrival=0.0):
    return Entry(source, ts(second), text, arrival)


def test_time_merge_waits_for_every_open_stream_without_follow():
    out = []
    m = TimeMerger(out.append, follow=False)
    m.open(A)
    m.open(B)
    m.add(item(A, 1, "a1"))
    m.add(item(A, 3, "a3"))
    assert m.release(100.0) is None and out == []  # B might still send something earlier
    m.add(item(B, 2, "b2"))
    m.release(100.0)
    assert [e.text for e in out] == ["a1", "b2"]  # a3 waits: B may send < 3
    m.close(B)
    m.release(100.0)
    assert [e.text for e in out] == ["a1", "b2", "a3"]


def test_time_merge_bounded_delay_while_following():
    out = []
    m = TimeMerger(out.append, delay=0.3, follow=True)
    m.open(A)
    m.open(B)
    m.add(item(A, 5, "a5", arrival=10.0))
    assert m.release(10.1) == 10.3
    m.add(item(B, 4, "b4", arrival=10.2))  # late but within the delay: still in order
    m.release(10.2)
    assert [e.text for e in out] == ["b4"]
    assert m.release(10.25) == 10.3
    m.release(10.31)
    assert [e.text for e in out] == ["b4", "a5"]


def test_time_merge_orders_markers_and_flushes_all():
    out = []
    m = TimeMerger(out.append, follow=True)
    m.open(A)
    m.add(item(A, 9, "late"))
    m.add(Marker(A, ts(8), "restarted"))
    m.add(item(A, 7, "early"))
    m.flush_all()
    assert [getattr(x, "text", None) for x in out] == ["early", "a container restarted", "late"]
    assert m.queued == 0
