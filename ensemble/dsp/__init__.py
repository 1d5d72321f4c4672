"""Signal processing that knows no engine: the sample rate, the limiter, the WAV writer.

Everything audio in ensemble runs at 44.1 kHz: the Glicol engine's synths are hard-wired to it.
"""

SAMPLE_RATE = 44100
