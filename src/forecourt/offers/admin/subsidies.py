"""Ops console: filled in by the helper that owns this module."""
