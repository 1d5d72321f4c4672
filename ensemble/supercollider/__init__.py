"""SuperCollider SynthDefs built and encoded in Python, so that scsynth needs no sclang."""
