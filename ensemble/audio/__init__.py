"""Sample-level helpers shared by the audio outputs."""
