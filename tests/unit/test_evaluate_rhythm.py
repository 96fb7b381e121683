"""The sweep's settle time follows the burst's rhythm: from its third batch, twice the longest of the gaps
between its last five batches, within [0.03 s, the configured settle]; before that, the configured settle."""
from __future__ import annotations

import pytest

from journey.evaluation.jobs import SHORTEST_SETTLE, Rhythm, settle_after


@pytest.mark.parametrize(("gaps", "longest", "settle"), [
    ((), 0.1, 0.1),  # a first batch: no rhythm known
    ((0.001,), 0.1, 0.1),  # a second: one gap is no rhythm yet (two senders may start together)
    ((0.02, 0.02), 0.1, 0.04),  # batches 20 ms apart: silent for 40 ms means the sender is done
    ((0.02, 0.03, 0.02, 0.02), 0.1, 0.06),  # the longest recent gap sets the pace
    ((0.001, 0.002), 0.1, SHORTEST_SETTLE),  # concurrent senders a millisecond apart: never below the floor
    ((0.05, 0.05), 0.1, 0.1),  # twice 50 ms is the configured settle itself
    ((0.2, 0.02, 0.02), 0.1, 0.1),  # a sender pausing between batches: the configured settle, as without rhythm
    ((0.02, 0.02), 0.0, 0.0),  # settle configured off: evaluate at once
])
def test_settle_after(gaps: tuple[float, ...], longest: float, settle: float) -> None:
    assert settle_after(gaps, longest) == pytest.approx(settle)


def test_a_rhythm_learns_from_each_batch_and_forgets_after_a_pause() -> None:
    rhythm = Rhythm()
    assert rhythm.settle(longest=0.1) == 0.1  # nothing marked here yet
    assert [rhythm.marked(at, longest=0.1) for at in (100.0, 100.02, 100.04, 100.07)] == pytest.approx(
        [0.1, 0.1, 0.04, 0.06])
    assert rhythm.settle(longest=0.1) == pytest.approx(0.06)  # what the sweep reads
    assert rhythm.settle(longest=0.05) == 0.05  # never above the configured settle
    assert rhythm.marked(110.0, longest=0.1) == 0.1  # a new burst after ten quiet seconds
    assert [rhythm.marked(at, longest=0.1) for at in (110.02, 110.04, 110.06, 110.08, 110.1)] == pytest.approx(
        [0.1, 0.1, 0.1, 0.04, 0.04])  # until the pause has left the last four gaps
