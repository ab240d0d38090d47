"""Ingestion: polite fetching, feeds, listing pages, local files, extraction, dedup, storage."""
