"""Process-wide settings for serving.

The garbage collector: every request allocates a few hundred short-lived containers (request
and response objects, parsed JSON, coroutines), so with CPython's default threshold (700) the
collector runs every few requests and repeatedly walks the long-lived objects of aiohttp and the
gateway. Freezing what start-up created and collecting young objects less often cut the CPU per
request by about a tenth in the benchmark; the garbage in between is small (most objects are
freed by reference counting the moment they are done with). That holds only while a request's
objects make no reference cycle: a cycle through a raised error's traceback keeps every frame's
request body and upstream answer until the rare full collection, so errors are never kept in
locals of the frames they pass through (tests/e2e/test_memory_after_bursts.py measures it).

The allocator: glibc gives a large block (a request body, an upstream's answer) a mapping of its
own, unmapped when freed, but each such free raises that threshold to the block's size (up to
32 MiB), after which large blocks come from the heap, which keeps their memory after a burst.
Serving keeps the threshold fixed, so memory comes back after a burst of large requests.

Descriptors: every client connection is one, and one more while its upstream call is open. The
common soft limit (1024) is far below what the system allows a process (the hard limit), so it is
raised to that at start; the connection cap (``gateway.api.connections``) is then sized from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import gc
import os

GC_THRESHOLDS = (10_000, 20, 100)
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
LARGE_BLOCK = 128 * 1024  # bytes: glibc's own starting threshold, kept from rising
# macOS reports an unlimited hard limit but refuses a soft limit above OPEN_MAX (10240).
_MACOS_OPEN_MAX = 10240


def tune_for_serving() -> None:
    """Call once start-up is done (the gateway listens): those objects live as long as the process."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    _unmap_large_blocks()


def _unmap_large_blocks() -> None:
    """On glibc, every block of ``LARGE_BLOCK`` bytes or more goes back to the system when freed.
    Other systems' allocators do so by themselves."""
    try:
        if not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc"):
            return
        libc = ctypes.CDLL("libc.so.6")
    except (AttributeError, ValueError, OSError):  # no confstr (Windows), no such name (macOS)
        return
    libc.mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The loop the gateway runs on: uvloop where the OS has it (faster I/O), asyncio's otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
    return loop


def raise_descriptor_limit() -> int | None:
    """Raise the soft limit on open descriptors to the hard limit; return the soft limit now in
    force, or None where there is none to read (Windows) or it is unlimited."""
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = _MACOS_OPEN_MAX if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        with contextlib.suppress(ValueError, OSError):  # the system may allow less than it reports
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return None if soft == resource.RLIM_INFINITY else soft
