"""Regia notifier service: tells project leads when an objective they lead changes, and
keeps every delivery and every attempt on record."""
