"""CSM / AM assignment rules: fit, load, capacity, and the reason given."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journey.team.assignment import Candidate, choose_owner


def _c(id_, load, capacity=None, segments=(), regions=(), role="csm", active=True,  # type: ignore[no-untyped-def]
       arr_load=0.0, capacity_arr=None, languages=()):
    return Candidate(id=id_, name=f"M{id_}", role=role, load=load, capacity=capacity, segments=tuple(segments),
                     regions=tuple(regions), active=active, arr_load=arr_load, capacity_arr=capacity_arr,
                     languages=tuple(languages))


@pytest.mark.parametrize(
    ("candidates", "segment", "region", "chosen", "over"),
    [
        # the exact fit wins over a less loaded wildcard
        ([_c(1, 0), _c(2, 5, 10, ["mid_market"], ["FR"])], "mid_market", "FR", 2, False),
        # among equal fits, the least loaded
        ([_c(1, 4, 10, ["mid_market"], ["FR"]), _c(2, 3, 10, ["mid_market"], ["FR"])], "mid_market", "FR", 2, False),
        # a full exact fit loses to a wildcard with room
        ([_c(1, 10, 10, ["mid_market"], ["FR"]), _c(2, 30, None)], "mid_market", "FR", 2, False),
        # region FR covers the subdivision FR-75; a US specialist does not
        ([_c(1, 0, 5, [], ["US"]), _c(2, 2, 5, [], ["fr"])], "smb", "FR-75", 2, False),
        # segment spelling is forgiving
        ([_c(1, 0, 5, ["enterprise"]), _c(2, 2, 5, ["Mid-Market"])], "mid_market", None, 2, False),
        # no exact fit at all: the closest (segment beats region), still under capacity
        ([_c(1, 0, 5, ["smb"], ["FR"]), _c(2, 0, 5, ["mid_market"], ["US"])], "mid_market", "FR", 2, False),
        # everyone full: the least loaded best fit, flagged
        ([_c(1, 12, 10, ["mid_market"]), _c(2, 11, 10, ["mid_market"])], "mid_market", "FR", 2, True),
        # inactive members and other roles never
        ([_c(1, 0, active=False), _c(2, 0, role="am"), _c(3, 9, 10)], "smb", "US", 3, False),
        # ties go to the lowest id (stable)
        ([_c(5, 1, 10), _c(4, 1, 10)], "smb", "US", 4, False),
    ],
)
def test_choose_owner(candidates, segment, region, chosen, over) -> None:  # type: ignore[no-untyped-def]
    choice = choose_owner(candidates, role="csm", segment=segment, region=region)
    assert (choice.member_id, choice.over_capacity) == (chosen, over)
    assert f"M{chosen}" in choice.reason


def test_reason_explains_fit_and_load() -> None:
    choice = choose_owner([_c(1, 3, 25, ["mid_market"], ["FR"]), _c(2, 25, 25)], role="csm",
                          segment="mid_market", region="FR")
    assert choice.reason == ("M1 covers segment mid_market and region FR, with 3 of 25 accounts; "
                             "the best fit with room (1 of 2 CSMs had room)")
    full = choose_owner([_c(1, 9, 9)], role="csm", segment="smb", region="US")
    assert "at capacity" in full.reason and full.over_capacity


def test_nobody_in_the_roster() -> None:
    assert choose_owner([_c(1, 0, role="am")], role="csm", segment="smb", region="FR").member_id is None


@pytest.mark.parametrize(
    ("candidates", "arr", "language", "chosen", "over"),
    [
        # the exact fit's ARR capacity would be exceeded by this account: a wildcard with room wins
        ([_c(1, 1, 10, ["mid_market"], ["FR"], arr_load=80_000, capacity_arr=100_000), _c(2, 5, 10)],
         48_000, None, 2, False),
        # exactly reaching the ARR capacity is allowed
        ([_c(1, 1, 10, ["mid_market"], ["FR"], arr_load=52_000, capacity_arr=100_000), _c(2, 0, 10)],
         48_000, None, 1, False),
        # everyone over in ARR: the best fit, least loaded, flagged
        ([_c(1, 1, 10, arr_load=90_000, capacity_arr=100_000), _c(2, 2, 10, arr_load=10, capacity_arr=20)],
         48_000, None, 1, True),
        # among equal fits, the one who speaks the account's language, even with more accounts
        ([_c(1, 1, 10, ["mid_market"], ["FR"], languages=["en"]),
          _c(2, 4, 10, ["mid_market"], ["FR"], languages=["fr", "en"])], 0, "fr", 2, False),
        # a regional variant matches its language
        ([_c(1, 1, 10, languages=["en"]), _c(2, 4, 10, languages=["pt"])], 0, "pt-BR", 2, False),
        # the account has no language: no tie-break, the least loaded
        ([_c(1, 1, 10, ["mid_market"], ["FR"], languages=["en"]),
          _c(2, 4, 10, ["mid_market"], ["FR"], languages=["fr"])], 0, None, 1, False),
        # language never beats fit
        ([_c(1, 0, 10, ["mid_market"], ["FR"]), _c(2, 0, 10, ["smb"], ["US"], languages=["fr"])], 0, "fr", 1, False),
        # language never beats room
        ([_c(1, 10, 10, ["mid_market"], ["FR"], languages=["fr"]), _c(2, 0, 10, ["mid_market"], ["FR"])],
         0, "fr", 2, False),
    ],
)
def test_arr_capacity_and_language(candidates, arr, language, chosen, over) -> None:  # type: ignore[no-untyped-def]
    choice = choose_owner(candidates, role="csm", segment="mid_market", region="FR", arr=arr, language=language)
    assert (choice.member_id, choice.over_capacity) == (chosen, over)


def test_reason_names_the_language_and_the_arr() -> None:
    choice = choose_owner([_c(1, 3, 25, ["mid_market"], ["FR"], arr_load=100_000, capacity_arr=500_000,
                              languages=["fr"])], role="csm", segment="mid_market", region="FR", arr=48_000,
                          language="fr")
    assert choice.reason == ("M1 covers segment mid_market and region FR, speaks fr, with 3 of 25 accounts and "
                             "100,000 of 500,000 ARR before this one (48,000); the best fit with room "
                             "(1 of 1 CSMs had room)")


CANDIDATES = st.lists(
    st.builds(_c, st.integers(1, 10_000), st.integers(0, 40), st.one_of(st.none(), st.integers(0, 30)),
              st.lists(st.sampled_from(["smb", "mid_market", "enterprise"]), max_size=2),
              st.lists(st.sampled_from(["FR", "US", "DE"]), max_size=2),
              st.sampled_from(["csm", "am"]), st.booleans(),
              st.floats(0, 1_000_000, allow_nan=False), st.one_of(st.none(), st.floats(0, 1_000_000)),
              st.lists(st.sampled_from(["fr", "en", "de"]), max_size=2)),
    max_size=12, unique_by=lambda c: c.id)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared 2-core machine
@given(CANDIDATES, st.sampled_from(["smb", "mid_market", "enterprise", None]),
       st.sampled_from(["FR", "US-CA", "DE", None]), st.floats(0, 300_000, allow_nan=False),
       st.sampled_from(["fr", "en-GB", None]))
def test_never_over_capacity_while_someone_has_room(candidates, segment, region, arr,  # type: ignore[no-untyped-def]
                                                    language) -> None:
    choice = choose_owner(candidates, role="csm", segment=segment, region=region, arr=arr, language=language)
    pool = [c for c in candidates if c.active and c.role == "csm"]
    if not pool:
        assert choice.member_id is None
        return
    chosen = next(c for c in pool if c.id == choice.member_id)
    # room written out again: both capacities hold once this account is added
    def fits(c) -> bool:  # type: ignore[no-untyped-def]
        return ((c.capacity is None or c.load + 1 <= c.capacity)
                and (c.capacity_arr is None or c.arr_load + arr <= c.capacity_arr))

    someone_has_room = any(fits(c) for c in pool)
    assert fits(chosen) == someone_has_room
    assert choice.over_capacity == (not someone_has_room)
