"""Typo hints: the nearest option within reach, and no more work for a pasted megabyte."""

from ensemble.hints import distance, hint, nearest

COMMANDS = ["seed", "spawn", "set", "tempo", "mute", "unmute", "solo", "quit"]


def test_a_typo_finds_its_word():
    assert nearest("muet", COMMANDS) == "mute"  # two neighbours swapped: one edit
    assert nearest("sede", COMMANDS) == "seed"
    assert nearest("sollo", COMMANDS) == "solo"
    assert nearest("tmepo", COMMANDS) == "tempo"


def test_nothing_close_lists_the_options():
    assert nearest("dance", COMMANDS) is None
    assert hint("dance", COMMANDS, "commands") == f" (commands: {', '.join(COMMANDS)})"
    assert hint("sett", COMMANDS, "commands") == " (did you mean 'set'?)"


def test_distance_counts_inserts_deletes_changes_and_swaps():
    assert distance("mute", "mute") == 0
    assert distance("mute", "muet") == 1
    assert distance("mute", "mutes") == 1
    assert distance("mute", "mut") == 1
    assert distance("mute", "mate") == 1
    assert distance("", "seed") == 4


def test_a_word_far_longer_than_any_option_is_not_compared_and_has_no_match():
    # A pasted megabyte: every option is further from it in length than a typo's reach, so none
    # is compared (comparing would take a minute); the same answer as comparing would give.
    huge = "sp" + "a" * 1_000_000 + "wn"
    assert nearest(huge, COMMANDS) is None
    assert hint(huge, COMMANDS, "commands") == f" (commands: {', '.join(COMMANDS)})"


def test_the_length_bound_keeps_every_answer_a_full_comparison_gives():
    words = ["s", "se", "seeed", "spawnnn", "unmuteee", "tempotempo", "qu", "x" * 12, "solo" * 3]
    for word in words:
        reach = max(2, len(word) // 3)
        full = min(((distance(word, option), index, option) for index, option in enumerate(COMMANDS)))
        expected = full[2] if full[0] <= reach else None
        assert nearest(word, COMMANDS) == expected, word
