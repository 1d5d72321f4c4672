"""MIDI: ports and backends, and a sender thread that keeps time."""
