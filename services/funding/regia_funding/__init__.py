"""Regia funding service: the authority on money, its lines and their append-only ledger."""
