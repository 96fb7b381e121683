"""Who becomes an account's CSM (or AM) when the CRM names nobody. Pure: candidates in, a choice out.

Rules, in order:
1. Only active members of the role are candidates.
2. A member with room always beats one without, so nobody is pushed over capacity while anybody of the
   role has room. Room means both capacities hold after the assignment: fewer accounts than
   `capacity` (accounts), and the ARR owned plus the new account's ARR within `capacity_arr` (ARR is the
   sum of the active deals' amounts). No capacity means unlimited.
3. Among those, the best fit first: covering both the segment and the region, then the segment, then
   the region. A member with no segments (or no regions) listed covers any; an explicit listing beats
   that wildcard. Region `FR` covers `FR` and its subdivisions (`FR-75`).
4. Among equal fits, when the account has a language, a member who speaks it (`fr` matches `fr-CA`);
   an account without a language skips this tie-break.
5. Then the least loaded (fewest accounts, then the lowest share of capacity), then the lowest id,
   so the choice is stable.
When nobody has room the least loaded best fit is chosen anyway and the choice says it is over capacity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Candidate:
    id: int
    name: str
    role: str
    load: int
    capacity: int | None = None
    segments: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    active: bool = True
    arr_load: float = 0.0
    capacity_arr: float | None = None
    languages: tuple[str, ...] = ()

    @property
    def has_room(self) -> bool:
        """Room for one more account of no ARR (see :meth:`has_room_for`)."""
        return self.has_room_for(0.0)

    def has_room_for(self, arr: float) -> bool:
        """Both capacities still hold once an account of `arr` is added."""
        accounts_ok = self.capacity is None or self.load < self.capacity
        return accounts_ok and (self.capacity_arr is None or self.arr_load + arr <= self.capacity_arr)


@dataclass(frozen=True)
class Choice:
    member_id: int | None
    reason: str
    over_capacity: bool = False


def _norm(value: str) -> str:
    return value.strip().lower().replace("-", "_").replace(" ", "_")


def _segment_fit(c: Candidate, segment: str | None) -> int:
    """2 explicit match, 1 wildcard, 0 no match."""
    if not c.segments:
        return 1
    return 2 if segment and _norm(segment) in {_norm(s) for s in c.segments} else 0


def _region_fit(c: Candidate, region: str | None) -> int:
    if not c.regions:
        return 1
    if not region:
        return 0
    wanted = region.strip().upper()
    country = wanted.split("-")[0]
    return 2 if any(r.strip().upper() in (wanted, country) for r in c.regions) else 0


def _speaks(c: Candidate, language: str | None) -> bool:
    """Whether the member lists the account's language (primary subtag: `fr` matches `fr-CA`)."""
    if not language:
        return False
    wanted = language.strip().lower().replace("_", "-").split("-")[0]
    return any(spoken.strip().lower().replace("_", "-").split("-")[0] == wanted for spoken in c.languages)


def _rank(c: Candidate, segment: str | None, region: str | None, arr: float,
          language: str | None) -> tuple:  # type: ignore[type-arg]
    seg, reg = _segment_fit(c, segment), _region_fit(c, region)
    share = c.load / c.capacity if c.capacity else 0.0
    return (not c.has_room_for(arr), not (seg and reg), not seg, not reg, -(seg + reg),
            bool(language) and not _speaks(c, language), c.load, share, c.id)


def choose_owner(candidates: Sequence[Candidate], *, role: str, segment: str | None,
                 region: str | None, arr: float = 0.0, language: str | None = None) -> Choice:
    """The member to own an account of `segment` in `region` (worth `arr`, speaking `language`, both
    optional) as `role`, and why, in a sentence."""
    pool = [c for c in candidates if c.active and c.role == role]
    if not pool:
        return Choice(None, f"no active {role.upper()} in the roster")
    best = min(pool, key=lambda c: _rank(c, segment, region, arr, language))
    fits = [what for what, ok in (
        (f"segment {segment}", _segment_fit(best, segment) == 2),
        (f"region {region}", _region_fit(best, region) == 2)) if ok]
    fit = f"covers {' and '.join(fits)}" if fits else "covers any segment and region" if (
        _segment_fit(best, segment) and _region_fit(best, region)) else "is the closest fit (no exact match)"
    if _speaks(best, language):
        fit += f", speaks {language}"
    load = f"{best.load} of {best.capacity} accounts" if best.capacity is not None else f"{best.load} accounts"
    if best.capacity_arr is not None:
        load += f" and {best.arr_load:,.0f} of {best.capacity_arr:,.0f} ARR before this one ({arr:,.0f})"
    with_room = sum(c.has_room_for(arr) for c in pool)
    if not best.has_room_for(arr):
        return Choice(best.id, f"{best.name} {fit}; every {role.upper()} is at capacity, so the least loaded "
                               f"was chosen ({load})", over_capacity=True)
    return Choice(best.id, f"{best.name} {fit}, with {load}; the best fit with room "
                           f"({with_room} of {len(pool)} {role.upper()}s had room)")
