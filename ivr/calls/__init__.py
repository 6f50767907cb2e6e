"""Call records: one row per CallSid, written off the hot path by ``recorder``."""
