"""One caller's sliding windows kept in Redis, read and changed by Lua scripts that run atomically,
so any number of gateways admit exactly a limit between them.

The windows are those of ``pipeline/limits.py`` (requests and tokens per minute and per day,
millionths of a dollar per day and per 30 days), each a hash of bucket number -> count under one
key per caller and window. Time is Redis's own (``TIME``), so gateways whose clocks differ agree.
Buckets that left their window are dropped as they are read, and each hash expires a span after
its last write, so idle callers leave nothing behind."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redis.asyncio import Redis
    from redis.commands.core import AsyncScript

# Bucket width in seconds and bucket count per window, in KEYS order (those of pipeline/limits.py).
NAMES = ("requests_minute", "requests_day", "tokens_minute", "tokens_day", "dollars_day", "dollars_month")
_SPECS = "{{1,60},{600,144},{1,60},{600,144},{600,144},{3600,720}}"

_COMMON = f"""
local specs = {_SPECS}
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local function live(i)
  local width, n = specs[i][1], specs[i][2]
  local oldest = math.floor(now / width) - n + 1
  local flat = redis.call('HGETALL', KEYS[i])
  local items, total = {{}}, 0
  for j = 1, #flat, 2 do
    local b, c = tonumber(flat[j]), tonumber(flat[j + 1])
    if b < oldest then
      redis.call('HDEL', KEYS[i], flat[j])
    elseif c > 0 then
      items[#items + 1] = {{b, c}}
      total = total + c
    end
  end
  table.sort(items, function(x, y) return x[1] < y[1] end)
  return items, total
end
local function add(i, amount)
  local width, n = specs[i][1], specs[i][2]
  local bucket = math.floor(now / width)
  if amount ~= 0 then redis.call('HINCRBY', KEYS[i], bucket, amount) end
  redis.call('PEXPIRE', KEYS[i], (width * n + 1) * 1000)
  return bucket
end
"""

# ARGV: tokens, then the limits of the six windows (-1: none). Returns {1, minute bucket, day bucket}
# when admitted, or {0, the window over its limit (1-6), the seconds to wait as text, what is used}.
_ADMIT = (
    _COMMON
    + """
local tokens = tonumber(ARGV[1])
local needs = {1, 1, tokens, tokens, 1, 1}
for i = 1, 6 do
  local limit = tonumber(ARGV[i + 1])
  if limit >= 0 then
    local need = math.min(needs[i], limit)
    local items, total = live(i)
    if total + need > limit then
      local wait = specs[i][1] * specs[i][2]
      local left = total
      for _, item in ipairs(items) do
        left = left - item[2]
        if left + need <= limit then
          wait = (item[1] + specs[i][2]) * specs[i][1] - now
          break
        end
      end
      return {0, i, tostring(wait), total}
    end
  end
end
add(1, 1)
add(2, 1)
return {1, add(3, tokens), add(4, tokens)}
"""
)

# ARGV: the reservation's minute and day buckets, tokens to add (or take back), millionths of a dollar.
_SETTLE = (
    _COMMON
    + """
local delta, micro = tonumber(ARGV[3]), tonumber(ARGV[4])
for i = 3, 4 do
  local bucket = tonumber(ARGV[i - 2])
  local oldest = math.floor(now / specs[i][1]) - specs[i][2] + 1
  if delta ~= 0 and bucket >= oldest then
    if redis.call('HINCRBY', KEYS[i], bucket, delta) < 0 then redis.call('HSET', KEYS[i], bucket, 0) end
  elseif delta > 0 then
    add(i, delta)
  end
end
if micro > 0 then
  add(5, micro)
  add(6, micro)
end
return 1
"""
)

_TOTALS = (
    _COMMON
    + """
local totals = {}
for i = 1, 6 do
  local _, total = live(i)
  totals[i] = total
end
return totals
"""
)


# A reservation to settle: caller, its minute and day buckets, tokens to add (or take back), millionths of a dollar.
Settlement = tuple[str, int, int, int, int]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A request over a window's limit: which window, how long until it fits, what is used of it."""

    window: str
    wait: float
    used: int


class SharedWindows:
    """The three scripts, registered once on a client (each then runs by its hash)."""

    def __init__(self, client: Redis, prefix: str = "switchboard:limits") -> None:
        self._client = client
        self._prefix = prefix
        self._admit: AsyncScript = client.register_script(_ADMIT)
        self._settle: AsyncScript = client.register_script(_SETTLE)
        self._totals: AsyncScript = client.register_script(_TOTALS)

    def keys(self, caller: str) -> list[str]:
        # The caller in braces: a Redis Cluster keeps one caller's windows on one node.
        return [f"{self._prefix}:{{{caller}}}:{name}" for name in NAMES]

    async def admit(self, caller: str, tokens: int, limits: tuple[int | None, ...]) -> tuple[int, int] | Refusal:
        """Count one request and ``tokens`` if every window has room: (minute bucket, day bucket)."""
        args = [tokens, *(-1 if limit is None else limit for limit in limits)]
        answer = await self._admit(keys=self.keys(caller), args=args)
        if int(answer[0]) == 1:
            return int(answer[1]), int(answer[2])
        return Refusal(NAMES[int(answer[1]) - 1], float(answer[2]), int(answer[3]))

    async def settle(self, settlements: Iterable[Settlement]) -> None:
        """Reservations settled, in one round trip (each its own atomic script). By the script's
        hash alone: a pipeline given the script would ask Redis whether it knows it, a round trip
        more each time; a Redis that restarted since is sent the script and asked again."""
        from redis.exceptions import NoScriptError  # redis-py only where Redis is used: not on the desktop

        calls = [(self.keys(caller), (minute, day, delta, micro)) for caller, minute, day, delta, micro in settlements]
        for attempt in range(2):
            try:
                async with self._client.pipeline(transaction=False) as pipe:
                    for keys, args in calls:
                        pipe.evalsha(self._settle.sha, len(keys), *keys, *args)
                    await pipe.execute()
                return
            except NoScriptError:
                if attempt:
                    raise
                await self._client.script_load(_SETTLE)

    async def totals(self, caller: str) -> dict[str, int]:
        answer = await self._totals(keys=self.keys(caller), args=[])
        return {name: int(total) for name, total in zip(NAMES, answer, strict=True)}
