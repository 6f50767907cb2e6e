"""Spoken answers: what the provider transcribed, turned into digits or a menu option. Pure
Python, like the engine that uses it."""
