"""Regia objectives service: the plan's objectives, their needs, and the coverage projection."""
