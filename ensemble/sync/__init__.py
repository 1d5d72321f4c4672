"""Where the beats fall: ensemble's own tempo, or one it follows (Ableton Link, a MIDI clock)."""
