"""Rate limits per call and per calling number, counted in Redis so that every worker of every
instance shares them (docs/rules.md#rate-limits).

Each signed webhook but the status callback counts once against its CallSid and once against
its ``From`` number (callers who withhold it share no count), in windows of a minute: one Redis
round trip running one small script. Over either limit, the caller hears a polite goodbye and
the call ends; never a 5xx. If Redis does not answer, webhooks go on unlimited (logged): the
limits protect the line, they must not take it down.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass

import redis
from flask import Flask, Response
from redis.connection import ConnectionInterface

from ivr.current import registry
from ivr.twiml import MIMETYPE, plain, voice_of

log = logging.getLogger(__name__)

RATE_LIMITER = "rate_limiter"  # the app's RateLimiter, in app.extensions
WINDOW_SECONDS = 60
# Past this, a Redis that does not answer is skipped for a while instead of delaying calls.
REDIS_TIMEOUT_SECONDS = 0.1
SKIP_AFTER_FAILURE_SECONDS = 5.0
# The status callback records a call's end (and ends its login): refusing it would lose that,
# and nobody hears its answer.
EXEMPT_PATHS = frozenset({"/voice/status"})
# How providers present a withheld number (Twilio's placeholders included): no shared count.
WITHHELD = frozenset({"", "anonymous", "restricted", "unknown", "private", "unavailable",
                      "+266696687", "+7378742833", "+2562533", "+8656696", "+86282452253"})
LIMITED = (
    "No momento não conseguimos continuar o seu atendimento. "
    "Por favor, ligue novamente em alguns minutos. Obrigado e até logo."
)

# KEYS: the call's counter, then the number's (absent when withheld); ARGV: the keys' lifetime.
# Returns both counts after this request (0 for an absent number).
_COUNT = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('INCR', key)
  if counts[i] == 1 then redis.call('EXPIRE', key, ARGV[1]) end
end
counts[#KEYS + 1] = 0
return counts
"""


@dataclass(frozen=True)
class Limits:
    per_call: int  # webhooks a minute for one CallSid
    per_number: int  # webhooks a minute from one calling number, all its calls together


class RateLimiter:
    """Counts through one redis-py ``Connection`` each thread holds, the script run by its SHA.

    The client's pool, retry and event wrappers cost about 50 µs of CPU a webhook more than the
    connection they wrap (``scripts/bench.py --scenario option`` with and without ``REDIS_URL``).
    """

    def __init__(self, url: str, limits: Limits, prefix: str = "ivr:limit:") -> None:
        self.limits = limits
        self.prefix = prefix
        self.pool = redis.ConnectionPool.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        self.sha = hashlib.sha1(_COUNT.encode()).hexdigest()  # noqa: S324 - Redis names scripts so
        self._local = threading.local()
        self._skip_until = 0.0

    def _connection(self) -> ConnectionInterface:
        connection: ConnectionInterface | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self.pool.make_connection()
        return connection

    def _counts(self, keys: list[str]) -> list[int]:
        connection = self._connection()
        command = ("EVALSHA", self.sha, len(keys), *keys, 2 * WINDOW_SECONDS)
        try:
            connection.send_packed_command(connection.pack_command(*command),
                                           check_health=False)
            counts: list[int] = connection.read_response()
        except redis.exceptions.NoScriptError:  # a restarted or flushed Redis: load it again
            connection.send_command("SCRIPT", "LOAD", _COUNT)
            self.sha = connection.read_response().decode()
            connection.send_command("EVALSHA", self.sha, *command[2:])
            counts = connection.read_response()
        except redis.RedisError:
            connection.disconnect()  # whatever was half sent or half read goes with it
            raise
        return counts

    def over(self, call_sid: str, number: str | None) -> str | None:
        """Counts one webhook; "call" or "number" when it goes over that limit, else None."""
        moment = time.time()
        if moment < self._skip_until:
            return None
        window = int(moment) // WINDOW_SECONDS
        keys = [f"{self.prefix}call:{call_sid}:{window}"]
        number = (number or "").strip()[:64]
        if number.lower() not in WITHHELD:
            keys.append(f"{self.prefix}number:{number}:{window}")
        try:
            per_call, per_number = self._counts(keys)[:2]
        except (redis.RedisError, OSError) as error:
            self._skip_until = moment + SKIP_AFTER_FAILURE_SECONDS
            log.warning("rate limits skipped for %.0f s: Redis did not answer (%s)",
                        SKIP_AFTER_FAILURE_SECONDS, type(error).__name__)
            return None
        if per_call > self.limits.per_call:
            if per_call == self.limits.per_call + 1:  # once a window, not on every refusal
                log.warning("rate limit: call %s over %d webhooks a minute", call_sid,
                            self.limits.per_call)
            return "call"
        if per_number > self.limits.per_number:
            if per_number == self.limits.per_number + 1:
                log.warning("rate limit: number %s over %d webhooks a minute", number,
                            self.limits.per_number)
            return "number"
        return None

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.disconnect()
        self.pool.disconnect()


def limited_response() -> Response:
    """What a caller over a limit hears: a polite goodbye in the menu's voice, then the end."""
    return Response(plain(LIMITED, voice_of(registry().current())), mimetype=MIMETYPE)


def refusal(app: Flask, path: str, call_sid: str, number: str | None) -> Response | None:
    """The answer to a webhook over a limit; None to serve it (within the limits, a path that
    is never limited, or no limits configured)."""
    limiter: RateLimiter | None = app.extensions.get(RATE_LIMITER)
    if limiter is None or path in EXEMPT_PATHS or limiter.over(call_sid, number) is None:
        return None
    return limited_response()


def install(app: Flask) -> None:
    url = app.config.get("REDIS_URL")
    if not url:
        log.warning("REDIS_URL is not set: no rate limits per call or per calling number")
        return
    app.extensions[RATE_LIMITER] = RateLimiter(str(url), Limits(
        per_call=int(app.config["RATE_LIMIT_PER_CALL"]),
        per_number=int(app.config["RATE_LIMIT_PER_NUMBER"]),
    ))
