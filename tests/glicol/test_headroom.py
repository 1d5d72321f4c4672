import pytest

from ensemble.glicol.headroom import TAU, EngineCost, Headroom, UnderrunReport, describe, engine_cost
from ensemble.glicol.program import load_voices

CHUNK = 256 / 44100


def _headroom(agent_cost=0.01, budget=0.7, lighter=None):
    voices = {"saw": agent_cost} if lighter is None else {"saw": agent_cost, "tri": lighter}
    return Headroom(EngineCost(0.0, voices), budget)


def _agents(n, voice="saw"):
    return [(f"a{k}", voice) for k in range(n)]


def _run(headroom, share, agents, seconds, engine_share=0.0):
    """Chunks of audio rendered at `share` of real time (`engine_share` of it in the engine) for
    `seconds`; the lines the performer got."""
    lines = []
    for _ in range(round(seconds / CHUNK)):
        line = headroom.measure(share * CHUNK, CHUNK, agents, engine_share * CHUNK)
        if line:
            lines.append(line)
    return lines


def test_the_load_is_the_share_of_real_time_rendering_takes_smoothed():
    headroom = _headroom()
    _run(headroom, 0.2, _agents(10), 3 * TAU)
    assert abs(headroom.load - 0.2) < 1e-6 and abs(headroom.agents - 10) < 1e-6
    _run(headroom, 0.4, _agents(20), CHUNK)  # one slow chunk moves it a little, not all the way
    assert 0.2 < headroom.load < 0.21


def test_the_performer_is_told_once_near_the_budget_then_once_over_it_then_that_there_is_room():
    headroom = _headroom()
    assert _run(headroom, 0.3, _agents(30), 2 * TAU) == []
    near = _run(headroom, 0.65, _agents(65), 2 * TAU)  # told as the smoothed load passes 85% of 0.7
    assert near == ["rendering takes 60% of real time with 65 agents (a0-a64; 65 saw), near the 70% it "
                    "can keep up with; more agents will drop out"]
    over = _run(headroom, 0.85, _agents(85), 2 * TAU)
    assert len(over) == 1 and over[0].startswith("rendering takes 71% of real time with 85 agents")
    assert "over the 70% it can keep up with: expect dropouts; `kill` some agents" in over[0]
    assert _run(headroom, 0.85, _agents(85), 2 * TAU) == []  # said already
    back = _run(headroom, 0.3, _agents(30), 3 * TAU)
    assert len(back) == 1 and back[0].endswith("of real time with 30 agents (a0-a29; 30 saw): room again")


def test_a_load_hovering_on_the_threshold_is_told_once():
    headroom = _headroom()
    lines = []
    for share in [0.58, 0.61] * 20:  # around 85% of the budget (0.595)
        lines += _run(headroom, share, _agents(60), TAU)
    assert len(lines) == 1


def test_nothing_is_judged_before_the_first_seconds_of_audio():
    headroom = _headroom()
    assert _run(headroom, 5.0, _agents(1), TAU / 2) == []  # start-up's one-time costs


def test_a_spawn_is_judged_by_the_load_it_would_bring():
    headroom = _headroom()
    _run(headroom, 0.3, _agents(20), 2 * TAU)  # 0.3 with 20: 0.7 is reached at 60 agents
    assert headroom.room_for(60) is None
    assert headroom.room_for(10) is None
    refusal = headroom.room_for(61)
    assert refusal == ("61 agents would take about 71% of real time to render, over the 70% it can keep "
                       "up with (room for 60 in all now, 20 playing)")


def test_before_anything_is_rendered_a_spawn_is_judged_by_the_measured_cost_of_an_agent():
    headroom = _headroom(agent_cost=0.02, budget=0.5)
    assert headroom.room_for(25) is None
    assert "room for 25 in all" in str(headroom.room_for(26))


def test_which_agents_are_named_with_their_voices():
    assert describe([]) == "no agents"
    assert describe([("a3", "tri")]) == "1 agent (a3; 1 tri)"
    assert describe([*_agents(3), ("a3", "tri")]) == "4 agents (a0-a3; 3 saw, 1 tri)"


def test_underruns_are_told_as_they_come_at_most_once_per_interval():
    report = UnderrunReport(interval=2.0)
    assert report.check(0, 0, 10.0, "ctx") is None
    assert report.check(1, 1, 10.5, "ctx") == "1 underrun just now (1 with nothing rendered; 1 in all); ctx"
    assert report.check(3, 1, 11.0, "ctx") is None  # within the interval: kept for the next line
    assert report.check(4, 2, 12.6, "ctx") == "3 underruns just now (1 with nothing rendered; 4 in all); ctx"
    assert report.check(4, 2, 20.0, "ctx") is None  # none new


def test_a_new_agent_costs_the_heaviest_voice_as_much_slower_as_the_engine_runs_live():
    headroom = _headroom(agent_cost=0.01, lighter=0.004)
    tri = [(f"a{k}", "tri") for k in range(20)]
    _run(headroom, 0.1, tri, 2 * TAU, engine_share=0.08)  # as calibrated: 20 x 0.004
    assert abs(headroom.agent_cost - 0.01) < 1e-9
    _run(headroom, 0.2, tri, 5 * TAU, engine_share=0.24)  # the machine is busy: three times slower
    assert abs(headroom.agent_cost - 0.03) < 5e-4
    assert "room for 36 in all" in str(headroom.room_for(37))  # 20 + (0.7 - 0.2) / 0.03
    _run(headroom, 0.05, tri, 5 * TAU, engine_share=0.02)  # faster than calibrated: no promise
    assert abs(headroom.agent_cost - 0.01) < 5e-4


def test_with_few_agents_the_sequencers_own_work_is_not_taken_for_a_slow_engine():
    headroom = _headroom(agent_cost=0.01)
    _run(headroom, 0.05, _agents(2), 2 * TAU, engine_share=0.03)  # 0.02 calibrated: too little to judge
    assert headroom.agent_cost == 0.01


def test_the_engine_is_measured_per_voice(glicol):
    cost = engine_cost(load_voices())
    assert set(cost.voices) == {"saw", "square", "tri"}
    # Tens of agents fit in real time on any machine that runs ensemble at all; one costs something.
    assert all(1e-5 <= share < 0.1 for share in cost.voices.values())
    assert 0 < cost.empty < 0.1
    assert cost.heaviest == max(cost.voices.values())
    summed = cost.empty + cost.voices["saw"] + cost.heaviest
    assert cost.of([("a0", "saw"), ("a1", "nonesuch")]) == pytest.approx(summed)
