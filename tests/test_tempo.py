from ensemble.tempo import TempoMap


def test_beats_to_seconds_at_one_tempo():
    assert TempoMap(120).seconds(8) == 4.0


def test_a_tempo_change_keeps_earlier_beats_where_they_were():
    tempo = TempoMap(120)
    tempo.set_tempo(4.0, 60)
    assert tempo.seconds(2.0) == 1.0
    assert tempo.seconds(4.0) == 2.0
    assert tempo.seconds(6.0) == 4.0


def test_two_changes_at_one_beat_keep_the_last():
    tempo = TempoMap(120)
    tempo.set_tempo(2.0, 60)
    tempo.set_tempo(2.0, 240)
    assert tempo.bpm == 240 and tempo.seconds(6.0) == 2.0
