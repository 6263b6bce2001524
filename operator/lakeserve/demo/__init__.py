"""lakeserve demo: the notebook scenario on one machine (needs the emulator extra)."""
