"""A render's files: measured before it starts, complete or not at all, through the real engine."""

from dataclasses import replace

import pytest
from support.audio_analysis import read_wav

from ensemble.errors import UserError
from ensemble.files import written_together
from ensemble.glicol.wav_output import planned_frames
from ensemble.performance.offline import Plan, check_room, rehearse, render
from ensemble.performance.script import parse_script
from ensemble.performance.sources import script_source

pytestmark = pytest.mark.usefixtures("glicol")

CHANGING = """
seed C4 E4 G4
spawn 2
wait 3
tempo 90
step 0.25
seed C4 D4 E4 F4 G4 _
spawn
wait 4
tempo 137
wait 2
"""


def _source(text, name="changing.ens"):
    return script_source(parse_script(text, name), 0, name)


def _listing(folder):
    return sorted(path.name for path in folder.iterdir())


def test_the_rehearsal_knows_the_length_of_the_render_to_the_frame(tmp_path):
    source = _source(CHANGING)
    plan = rehearse(source)
    result = render(source, tmp_path / "x.wav", show_progress=False)
    audio, _ = read_wav(tmp_path / "x.wav")
    assert plan.phrases == 9 == len(result.phrase_starts)
    assert plan.frames == len(audio)
    assert plan.wav_bytes == (tmp_path / "x.wav").stat().st_size
    assert not plan.rf64 and (tmp_path / "x.wav").read_bytes()[:4] == b"RIFF"
    # agents x seconds: 2 agents for 3 phrases of 0.75 s, then 3 for 4 of 1 s, then 2 at 137 bpm
    assert plan.agent_seconds == pytest.approx(2 * 3 * 0.75 + 3 * 4 * 1.0 + 3 * 2 * 1.5 * 60 / 137)


def test_a_render_announces_itself_and_its_progress_in_lines_when_not_on_a_terminal(tmp_path, capsys):
    render(_source(CHANGING), tmp_path / "x.wav")
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == (f"rendering {tmp_path / 'x.wav'}: 9 phrases, 8 s of audio, 1.4 MB WAV, "
                        f"under a second to render")
    assert [line.split(": ")[1].split(" ")[0] for line in lines[1:]] == [
        "11%", "22%", "33%", "44%", "55%", "66%", "77%", "88%", "100%"]
    assert lines[-1].startswith("rendering x.wav: 100% (9 of 9 phrases, in ")


def test_a_source_failing_part_way_through_the_render_leaves_nothing(tmp_path):
    """The rehearsal catches a bad line before anything is written; this source fails only when
    played the second time, in the render itself, at its third phrase."""
    source = _source(CHANGING)
    plays = []

    def failing_on_the_second_play(session):
        plays.append(1)
        for index, phrase in enumerate(source.play(session)):
            if len(plays) == 2 and index == 3:
                raise UserError("changing.ens:5: failed part-way")
            yield phrase

    (tmp_path / "x.wav").write_bytes(b"earlier take")
    with pytest.raises(UserError, match="failed part-way"):
        render(replace(source, play=failing_on_the_second_play), tmp_path / "x.wav", midi=tmp_path / "x.mid",
               show_progress=False)
    assert (tmp_path / "x.wav").read_bytes() == b"earlier take"
    assert _listing(tmp_path) == ["x.wav"]


def test_an_interrupted_render_leaves_nothing(tmp_path):
    source = _source(CHANGING)
    plays = []

    def interrupted(session):
        plays.append(1)
        for index, phrase in enumerate(source.play(session)):
            if len(plays) == 2 and index == 5:
                raise KeyboardInterrupt
            yield phrase

    with pytest.raises(KeyboardInterrupt):
        render(replace(source, play=interrupted), tmp_path / "x.wav", midi=tmp_path / "x.mid",
               show_progress=False)
    assert _listing(tmp_path) == []


def test_a_bad_line_fails_in_the_rehearsal_before_any_file_is_made(tmp_path):
    (tmp_path / "x.mid").write_bytes(b"earlier")
    with pytest.raises(UserError, match=r"^bad\.ens:4: no agent 'a3'"):
        render(_source("seed C4 E4\nspawn 1\nwait 1\nset a3 alpha=0.5\nwait 1\n", "bad.ens"),
               tmp_path / "x.wav", midi=tmp_path / "x.mid", show_progress=False)
    assert _listing(tmp_path) == ["x.mid"] and (tmp_path / "x.mid").read_bytes() == b"earlier"


def test_a_render_longer_than_a_wav_holds_is_announced_as_rf64():
    plan = Plan(phrases=100_000, seconds=100_000 * 2.0, agent_seconds=100_000 * 2.0, render_seconds=1500.0)
    assert plan.rf64 and plan.wav_bytes == 80 + planned_frames(200_000.0) * 4
    assert plan.describe() == ("100000 phrases, 55 h 33 min of audio, 35.3 GB RF64 (longer than a WAV can "
                               "hold), about 25 min to render")


def test_a_wav_its_disk_cannot_hold_is_refused_up_front(tmp_path):
    plan = Plan(phrases=1, seconds=1e9, agent_seconds=1e9, render_seconds=1e6)  # 176 TB
    refused = r"^cannot write .*x\.wav: it needs 176\.4 TB and its disk has [\d.]+ [kMGT]B free$"
    with pytest.raises(UserError, match=refused), written_together([tmp_path / "x.wav"]) as (partial,):
        check_room(plan.wav_bytes, partial)
    assert _listing(tmp_path) == []
