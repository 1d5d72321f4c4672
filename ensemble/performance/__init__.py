"""A performance from any source (script, journal, typed commands) to any outputs, live or offline."""
