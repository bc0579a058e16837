"""Who gets the next ticket of a team: a pure function over snapshots of the candidates.

No ORM here (STYLE.md §9): ``routing_service`` reads the team's members with their
availability and load in one query, turns them into ``Candidate`` rows, and asks
``choose_assignee``. Keeping the rule pure lets hypothesis check it without a database.

Eligibility (every mode):
- status is online (away and offline agents are skipped);
- fewer open tickets than capacity (capacity 0 takes nothing);
- every required skill is among the agent's skills (case-insensitive);
- languages: an agent who lists languages takes only tickets in one of them; an agent who
  lists none takes any language (a team that has not filled in languages keeps routing).
  Languages compare by primary subtag, so "en-GB" matches "en".

Order: candidates are considered in ascending user id, whatever order they arrive in, so
the same snapshot always gives the same answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

ONLINE = "online"
MODES = ("round_robin", "least_loaded")


@dataclass(frozen=True)
class Candidate:
    user_id: int
    status: str  # "online" | "away" | "offline"
    open_count: int
    capacity: int
    skills: frozenset[str] = field(default_factory=frozenset)
    languages: frozenset[str] = field(default_factory=frozenset)


def _norm_skill(value: str) -> str:
    return str(value).strip().casefold()


def _norm_language(value: str | None) -> str:
    return str(value or "").strip().replace("_", "-").split("-", 1)[0].casefold()


def normalise_skills(values: Iterable[str] | None) -> frozenset[str]:
    return frozenset(s for s in (_norm_skill(v) for v in (values or ())) if s)


def normalise_languages(values: Iterable[str] | None) -> frozenset[str]:
    return frozenset(s for s in (_norm_language(v) for v in (values or ())) if s)


def is_eligible(candidate: Candidate, *, required_skills: frozenset[str], language: str) -> bool:
    """``required_skills`` and ``language`` already normalised."""
    if candidate.status != ONLINE:
        return False
    if candidate.open_count >= candidate.capacity:
        return False
    if not required_skills <= normalise_skills(candidate.skills):
        return False
    languages = normalise_languages(candidate.languages)
    if language and languages and language not in languages:
        return False
    return True


def _rotation_key(user_id: int, last_assigned_id: int | None) -> tuple[int, int]:
    """Position in the round after ``last_assigned_id``: ids above it first, then the wrap."""
    if last_assigned_id is None:
        return (0, user_id)
    return (0, user_id) if user_id > last_assigned_id else (1, user_id)


def choose_assignee(
    *,
    mode: str,
    candidates: Iterable[Candidate],
    last_assigned_id: int | None = None,
    required_skills: Iterable[str] = (),
    language: str | None = None,
) -> int | None:
    """The user id to assign, or None when nobody fits (or the mode is not automatic).

    - ``round_robin``: the first eligible agent after ``last_assigned_id`` in ascending
      user id, wrapping around (the last assignee again only when nobody else fits).
    - ``least_loaded``: the eligible agent with the fewest open tickets; ties go in
      round-robin order after ``last_assigned_id``, so equal loads still take turns.
    """
    if mode not in MODES:
        return None
    skills = normalise_skills(required_skills)
    lang = _norm_language(language)
    eligible = [c for c in candidates if is_eligible(c, required_skills=skills, language=lang)]
    if not eligible:
        return None
    if mode == "round_robin":
        best = min(eligible, key=lambda c: _rotation_key(c.user_id, last_assigned_id))
    else:
        best = min(eligible, key=lambda c: (c.open_count, _rotation_key(c.user_id, last_assigned_id)))
    return best.user_id
