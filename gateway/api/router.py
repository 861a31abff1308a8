"""Which handler answers a method and path: a dictionary, not a URL dispatcher.

Routes are exact paths, plus path prefixes for the few that carry an id at the end
(``/v1/models/{id}``; ids may themselves hold slashes). GET routes answer HEAD too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
PATH_TAIL = web.RequestKey("path_tail", str)  # the id after a prefix route's prefix


class Router:
    def __init__(self) -> None:
        self._exact: dict[tuple[str, str], Handler] = {}
        self._prefixed: list[tuple[str, str, Handler]] = []

    def add(self, method: str, path: str, handler: Handler) -> None:
        self._exact[(method, path)] = handler
        if method == "GET":
            self._exact[("HEAD", path)] = handler

    def add_prefixed(self, method: str, prefix: str, handler: Handler) -> None:
        """A route for ``prefix`` followed by a non-empty tail, given to the handler in PATH_TAIL."""
        self._prefixed.append((method, prefix, handler))
        if method == "GET":
            self._prefixed.append(("HEAD", prefix, handler))

    def find(self, request: web.BaseRequest) -> Handler | None:
        method, path = request.method, request.path
        handler = self._exact.get((method, path))
        if handler is not None:
            return handler
        for route_method, prefix, prefixed in self._prefixed:
            if route_method == method and path.startswith(prefix) and len(path) > len(prefix):
                request[PATH_TAIL] = path[len(prefix) :]
                return prefixed
        return None

    def routes(self) -> list[tuple[str, str, bool]]:
        """Every (method, path, is_prefix) served."""
        return [(m, p, False) for m, p in self._exact] + [(m, p, True) for m, p, _ in self._prefixed]

    def allowed(self, path: str) -> set[str]:
        """The methods some route accepts on ``path`` (empty when no route has the path)."""
        methods = {method for method, route_path in self._exact if route_path == path}
        methods.update(
            method for method, prefix, _ in self._prefixed if path.startswith(prefix) and len(path) > len(prefix)
        )
        return methods
