"""Application services: the use cases (ingest, subscribe, deliver, poll feeds) over core + storage."""
