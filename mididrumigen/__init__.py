"""MidiDrumiGen: drum MIDI in a named drummer's style, from a local daemon."""

__version__ = "0.1.0"
