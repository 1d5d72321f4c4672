from ensemble import commands as cmd
from ensemble.report import accuracy_table, sparkline
from ensemble.session import Session


def test_sparkline_runs_from_low_to_high():
    assert sparkline([0.0, 0.5, 1.0], width=3) == " ▄█"
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
