import pytest

from ensemble.errors import UserError
from ensemble.voicing import Voicing


def test_each_agent_has_its_own_midi_channel_unless_told():
    told = Voicing().changed({"channel": "10", "program": "33"})
    sounds = [Voicing().sound(0), Voicing().sound(1), told.sound(2), Voicing().sound(17)]
    assert [s.channel for s in sounds] == [1, 2, 10, 2]  # sixteen channels, then round again
    assert [s.program for s in sounds] == [None, None, 33, None]


def test_voice_settings_are_checked_and_a_failed_change_changes_nothing():
    original = Voicing()
    with pytest.raises(UserError, match=r"cutoff=5: allowed: a frequency in Hz from 100 to 12000"):
        original.changed({"amp": "0.5", "cutoff": "5"})
    assert original.amp == 1.0
    changed = original.changed({"voice": "tri", "pan": "-0.5", "velocity": "90"})
    assert (changed.voice, changed.pan, changed.velocity) == ("tri", -0.5, 90)
