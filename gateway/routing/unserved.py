"""Model rules that lead nowhere: routes no provider lists (a typo in config.toml, a model its
provider retired), said in the log once the model lists are in, rather than found out when a
request for the alias goes elsewhere or nowhere.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from gateway.routing.model_index import ModelIndex

log = logging.getLogger("gateway.routing")


def unlisted_routes(chain: Iterable[str], index: ModelIndex) -> tuple[str, ...]:
    """The routes of a chain that no provider lists. A pinned route whose provider has no list
    (it is down, or not running) is not counted: its own failure is said where the lists are."""
    missing = []
    for ref in chain:
        if index.has_list(ref.partition("/")[0]):
            listed = index.get(ref) is not None or index.get(ref.removesuffix(":latest")) is not None
        else:  # a bare name; a pinned one whose provider has no list resolves as it is
            listed = bool(index.resolve_all(ref))
        if not listed:
            missing.append(ref)
    return tuple(missing)


def report_unserved(rules: Iterable[tuple[str, tuple[str, ...]]], index: ModelIndex) -> None:
    """A warning, in words, for each rule with a route no provider lists."""
    for name, chain in rules:
        missing = unlisted_routes(chain, index)
        if not missing:
            continue
        routes = " or ".join(f'"{ref}"' for ref in missing)
        if len(missing) == len(chain):
            outcome = "requests for it find nowhere to go"
        else:
            outcome = "requests for it go to its other routes"
        log.warning('alias "%s": no provider lists %s; %s', name, routes, outcome)
