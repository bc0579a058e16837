"""The routing choice (pure): examples plus hypothesis properties."""
from __future__ import annotations

import random

from hypothesis import given, settings, strategies as st

from tickets.automation.routing import Candidate, choose_assignee, is_eligible, normalise_skills


def c(user_id, *, status="online", open_count=0, capacity=10, skills=(), languages=()):
    return Candidate(user_id=user_id, status=status, open_count=open_count, capacity=capacity,
                     skills=frozenset(skills), languages=frozenset(languages))


def test_round_robin_takes_the_next_after_the_last_and_wraps():
    team = [c(3), c(1), c(2)]
    assert choose_assignee(mode="round_robin", candidates=team, last_assigned_id=None) == 1
    assert choose_assignee(mode="round_robin", candidates=team, last_assigned_id=1) == 2
    assert choose_assignee(mode="round_robin", candidates=team, last_assigned_id=2) == 3
    assert choose_assignee(mode="round_robin", candidates=team, last_assigned_id=3) == 1
    # The last assignee left the team: the round continues after their id.
    assert choose_assignee(mode="round_robin", candidates=[c(1), c(5)], last_assigned_id=3) == 5


def test_round_robin_skips_away_offline_and_full_agents():
    team = [c(1), c(2, status="away"), c(3, status="offline"), c(4, open_count=5, capacity=5), c(5)]
    assert choose_assignee(mode="round_robin", candidates=team, last_assigned_id=1) == 5
    assert choose_assignee(mode="round_robin", candidates=team, last_assigned_id=5) == 1


def test_round_robin_gives_the_last_assignee_again_only_when_alone():
    assert choose_assignee(mode="round_robin", candidates=[c(7), c(8, status="away")], last_assigned_id=7) == 7


def test_least_loaded_takes_the_fewest_open_and_breaks_ties_in_turn():
    team = [c(1, open_count=4), c(2, open_count=2), c(3, open_count=2), c(4, open_count=9)]
    assert choose_assignee(mode="least_loaded", candidates=team) == 2
    assert choose_assignee(mode="least_loaded", candidates=team, last_assigned_id=2) == 3
    assert choose_assignee(mode="least_loaded", candidates=team, last_assigned_id=3) == 2


def test_least_loaded_skips_unavailable_even_when_idle():
    team = [c(1, status="away"), c(2, open_count=0, capacity=0), c(3, open_count=3)]
    assert choose_assignee(mode="least_loaded", candidates=team) == 3


def test_skills_are_all_required_case_insensitively():
    team = [c(1, skills={"billing"}), c(2, skills={"Billing", "Turkish"}), c(3)]
    assert choose_assignee(mode="round_robin", candidates=team, required_skills=["billing", "turkish"]) == 2
    assert choose_assignee(mode="round_robin", candidates=team, required_skills=["refunds"]) is None


def test_languages_listed_are_honoured_and_an_empty_list_takes_any():
    team = [c(1, languages={"tr"}), c(2, languages={"en", "de"}), c(3)]
    assert choose_assignee(mode="round_robin", candidates=team, language="tr") == 1
    assert choose_assignee(mode="round_robin", candidates=team, language="en-GB", last_assigned_id=1) == 2
    assert choose_assignee(mode="round_robin", candidates=team, language="fr") == 3
    assert choose_assignee(mode="round_robin", candidates=team[:2], language="fr") is None


def test_nobody_fits_and_manual_mode_give_none():
    assert choose_assignee(mode="round_robin", candidates=[]) is None
    assert choose_assignee(mode="least_loaded", candidates=[c(1, status="offline")]) is None
    assert choose_assignee(mode="manual", candidates=[c(1)]) is None


# --- properties ---------------------------------------------------------------------------

statuses = st.sampled_from(["online", "away", "offline"])
skill_names = st.sampled_from(["billing", "refunds", "vip", "Turkish"])
lang_names = st.sampled_from(["en", "tr", "de", "en-US"])


@st.composite
def teams(draw):
    ids = draw(st.lists(st.integers(min_value=1, max_value=60), unique=True, max_size=12))
    return [
        Candidate(
            user_id=i,
            status=draw(statuses),
            open_count=draw(st.integers(min_value=0, max_value=12)),
            capacity=draw(st.integers(min_value=0, max_value=10)),
            skills=frozenset(draw(st.sets(skill_names, max_size=3))),
            languages=frozenset(draw(st.sets(lang_names, max_size=2))),
        )
        for i in ids
    ]


routing_args = dict(
    mode=st.sampled_from(["round_robin", "least_loaded"]),
    team=teams(),
    last=st.one_of(st.none(), st.integers(min_value=0, max_value=70)),
    skills=st.sets(skill_names, max_size=2),
    language=st.one_of(st.none(), lang_names),
)


@settings(max_examples=300, deadline=None)
@given(**routing_args)
def test_property_the_choice_is_eligible_and_none_only_when_nobody_is(mode, team, last, skills, language):
    chosen = choose_assignee(mode=mode, candidates=team, last_assigned_id=last, required_skills=skills,
                             language=language)
    eligible = [x for x in team if is_eligible(x, required_skills=normalise_skills(skills),
                                               language=(language or "").split("-")[0])]
    if not eligible:
        assert chosen is None
    else:
        assert chosen in {x.user_id for x in eligible}
        if mode == "least_loaded":
            by_id = {x.user_id: x for x in team}
            assert by_id[chosen].open_count == min(x.open_count for x in eligible)


@settings(max_examples=200, deadline=None)
@given(**routing_args, seed=st.integers())
def test_property_the_order_candidates_arrive_in_does_not_matter(mode, team, last, skills, language, seed):
    shuffled = list(team)
    random.Random(seed).shuffle(shuffled)
    args = dict(mode=mode, last_assigned_id=last, required_skills=skills, language=language)
    assert choose_assignee(candidates=team, **args) == choose_assignee(candidates=shuffled, **args)


@settings(max_examples=200, deadline=None)
@given(team=teams())
def test_property_round_robin_visits_every_eligible_agent_once_per_round(team):
    eligible = sorted(x.user_id for x in team if is_eligible(x, required_skills=frozenset(), language=""))
    last = None
    seen = []
    for _ in range(len(eligible)):
        last = choose_assignee(mode="round_robin", candidates=team, last_assigned_id=last)
        seen.append(last)
    assert sorted(seen) == eligible
