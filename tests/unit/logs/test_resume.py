from hypothesis import given, settings
from hypothesis import strategies as st

from kubectl_trace.logs.resume import LineCutter, ResumePoint, last_timestamp_run


def ts(n):
    return f"2026-01-02T15:04:{n // 1000:02d}.{n % 1000:09d}Z".encode()


def log(lines):
    """lines: list of (timestamp number, text) → kubelet bytes."""
    return b"".join(ts(t) + b" " + text.encode() + b"\n" for t, text in lines)


def test_cut_at_newlines_and_keep_the_partial_line():
    cutter = LineCutter()
    data = log([(1, "a"), (2, "b")])
    assert cutter.feed(data[:10]) == b""
    assert cutter.feed(data[10:-3]) == log([(1, "a")])
    assert cutter.feed(data[-3:]) == log([(2, "b")])
    assert cutter.point == ResumePoint(ts(2), 1)
    assert cutter.delivered == 2


def test_point_counts_lines_that_share_the_last_timestamp_across_chunks():
    cutter = LineCutter()
    cutter.feed(log([(1, "a"), (5, "b"), (5, "c")]))
    assert cutter.point == ResumePoint(ts(5), 2)
    cutter.feed(log([(5, "d")]))
    assert cutter.point == ResumePoint(ts(5), 3)
    cutter.feed(log([(5, "e"), (6, "f")]))
    assert cutter.point == ResumePoint(ts(6), 1)


def test_resume_drops_older_lines_and_the_delivered_ones_of_the_same_timestamp():
    # Delivered up to: two lines at t=5. A server that rounds sinceTime down resends more.
    cutter = LineCutter(ResumePoint(ts(5), 2))
    out = cutter.feed(log([(3, "old"), (5, "b"), (5, "c"), (5, "d"), (7, "e")]))
    assert out == log([(5, "d"), (7, "e")])
    assert cutter.skipped == 3
    assert cutter.point == ResumePoint(ts(7), 1)


def test_resume_point_continues_the_count_when_nothing_new_has_a_later_timestamp():
    cutter = LineCutter(ResumePoint(ts(5), 1))
    assert cutter.feed(log([(5, "a"), (5, "b")])) == log([(5, "b")])
    assert cutter.point == ResumePoint(ts(5), 2)


def test_finish_returns_an_unterminated_last_line():
    cutter = LineCutter()
    assert cutter.feed(ts(1) + b" a\n" + ts(2) + b" tail-no-newline") == ts(1) + b" a\n"
    assert cutter.finish() == ts(2) + b" tail-no-newline\n"
    assert cutter.finish() == b""


def test_last_timestamp_run():
    assert last_timestamp_run(log([(1, "a"), (2, "b"), (2, "c")])) == (ts(2), 2, False)
    assert last_timestamp_run(log([(2, "b"), (2, "c")])) == (ts(2), 2, True)


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.lists(st.integers(min_value=0, max_value=2), min_size=1, max_size=60),
    cuts=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=20),
    rounding=st.booleans(),
)
def test_drops_and_resumes_never_lose_or_repeat(gaps, cuts, rounding):
    """A stream dropped at arbitrary byte offsets, resumed from the point, equals the original."""
    t = 1000
    lines = []
    for i, gap in enumerate(gaps):
        t += gap  # gap 0: several lines share a timestamp
        lines.append((t, f"line {i}"))
    full = log(lines)

    def server(since):
        """Lines with timestamp >= since (rounded down to the second when ``rounding``)."""
        if since is None:
            return full
        if rounding:
            since = since[:19] + b".000000000Z"
        return log([(tt, x) for tt, x in lines if ts(tt) >= since])

    got = b""
    point = None
    for cut in [*cuts, None]:
        cutter = LineCutter(point)
        body = server(point.ts if point else None)
        if cut is None:  # the last connection reads to the end
            got += cutter.feed(body) + cutter.finish()
            break
        got += cutter.feed(body[:cut])  # dropped after ``cut`` bytes: the partial line is lost
        point = cutter.point
    assert got == full
