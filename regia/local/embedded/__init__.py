"""Embedded infrastructure for the one-machine default and the test suite."""
