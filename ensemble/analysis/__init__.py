"""How a chain's melodies change as they pass along: metrics, a replay that gathers them, a report."""
