"""Run the CLI with `python -m mididrumigen`."""

from mididrumigen.cli import main

raise SystemExit(main())
