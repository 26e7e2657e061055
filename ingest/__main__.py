"""``python -m ingest``: the same command as the ``ingest`` console script.

The command lives in :mod:`index.cli` because it writes to the knowledge base; this entry
point is the one place under ``ingest/`` that imports :mod:`index`, and only to run it.
"""
from index.cli import main

main(prog_name="ingest")
