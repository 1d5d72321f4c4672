from ensemble import commands as cmd
from ensemble.report import accuracy_table, commands_table, sparkline
from ensemble.session import Session


def test_sparkline_runs_from_low_to_high():
    assert sparkline([0.0, 0.5, 1.0], width=3) == "_▄█"  # 0% is drawn, not blank
    assert len(sparkline([1.0] * 100)) == 24


def test_the_table_has_a_row_per_agent_with_its_progress():
    session = Session(seed=0)
    for line in ["seed C4 E4 G4", "set all epsilon=0 alpha=1", "spawn 2"]:
        session.submit(cmd.parse_command(line))
    for _ in range(40):
        session.next_phrase()
    rows = accuracy_table(session).splitlines()
    assert rows[0].split()[:3] == ["agent", "copies", "voice"]
    a0, a1 = rows[2].split(), rows[3].split()
    assert a0[:3] == ["a0", "seed", "saw"] and a1[:2] == ["a1", "a0"]
    assert a0[6] == "100%"  # the last quarter of the performance is exact
    assert "phrase" in rows[2] and "never" not in rows[2]


def test_first_exact_is_told_against_the_target_and_against_the_seed():
    session = Session(seed=0)
    # a1 copies a0, whose palette lacks E4: a1 soon plays its target exactly, never the seed
    for line in ["seed C4 E4 G4", "set all epsilon=0 alpha=1 rests=off", "spawn 2",
                 "set a0 palette=minor_pentatonic:C4-C5", "set a1 palette=chromatic:C4-C5"]:
        session.submit(cmd.parse_command(line))
    for _ in range(40):
        session.next_phrase()
    rows = accuracy_table(session).splitlines()
    assert "first exact  first as seed" in rows[0]
    a1 = rows[3]
    assert a1.split()[7:9] == ["phrase", a1.split()[8]] and a1.split()[9] == "never"
    assert rows[-1] == "(sparkline: _ = 0%, █ = 100%)"


def test_commands_are_listed_by_the_phrase_they_landed_on():
    assert commands_table([(1, "tempo 120"), (1, "spawn 2"), (16, "set all epsilon=0.8")]) == (
        "phrase    1: tempo 120; spawn 2\nphrase   16: set all epsilon=0.8")


class HeardBy:
    """Every heard attempt of one agent, as a replay of the journal would give them back."""

    def __init__(self, agent):
        self.agent, self.attempts = agent, []

    def applied(self, phrase, beat, command):
        pass

    def composed(self, phrase, attempts):
        self.attempts += [a for a in attempts if a.agent == self.agent and a.heard]


def test_a_show_longer_than_the_melodies_held_is_reported_from_its_first_phrase():
    from ensemble.history import HELD_PHRASES

    session = Session(seed=0)
    observer = HeardBy("a0")
    session.observe(observer)
    heard = observer.attempts
    for line in ["seed C4 E4 G4 C5", "set all epsilon=0 alpha=0.3", "spawn 2"]:
        session.submit(cmd.parse_command(line))
    phrases = 2 * HELD_PHRASES
    for _ in range(phrases):
        session.next_phrase()
    assert session.history.first_held == HELD_PHRASES
    rows = accuracy_table(session).splitlines()
    quarter = phrases // 4
    assert rows[0].split()[3:5] == ["ph", f"1-{quarter}"]
    first = [a.accuracy for a in heard[:quarter]]
    a0 = rows[2].split()
    assert a0[3] == f"{sum(first) / len(first):.0%}" and a0[3] != "100%"  # phrases no longer held count too
    exact = next(i for i, a in enumerate(heard) if a.accuracy == 1.0)
    assert a0[7:9] == ["phrase", str(exact + 1)]
    assert a0[-1] == sparkline([a.accuracy for a in heard])
