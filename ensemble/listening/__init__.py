"""Listening: agents rewarded by how close their rendered audio sounds to their target's."""
