"""The app's services for the request being served: the menu registry, the clock, the call
recorder."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app

from ivr.calls.recorder import CallRecorder
from ivr.registry import MenuRegistry


def registry() -> MenuRegistry:
    registry: MenuRegistry = current_app.extensions["menu_registry"]
    return registry


def recorder() -> CallRecorder:
    recorder: CallRecorder = current_app.extensions["call_recorder"]
    return recorder


def now() -> datetime:
    clock: Callable[[], datetime] = current_app.config["CLOCK"]
    return clock()
