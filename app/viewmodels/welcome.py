"""The first-run welcome's words and choices, without widgets: what each thing found on this computer
offers (a state in words, and the button that puts it to use), which model the test message goes
to, and what its answer says."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from app.colours import GOOD
from app.try_chat import Tried
from app.viewmodels.provider_state import ProviderState, provider_state
from gateway import Found, ModelRow, StatusDocument

TITLE = "Welcome to Switchboard"
WHAT_IT_DOES = (
    "Switchboard lets every AI tool on this computer use the models and accounts you already have — "
    "local model servers, subscriptions and API keys — through one address on this computer."
)
NOTHING_FOUND = (
    "Nothing to use was found yet: no model server answers on this computer, and no sign-in or key was "
    "found. Start one and look again, or add a provider."
)
PROMPT = "Say hello to me in one short sentence."
NO_MODEL = "No model can answer yet: use something found above, or add a provider first."
READY = "Switchboard is ready."
IN_USE = "In use"
KEEP_NOTE = "In use now. Keep it, and Switchboard has it whenever it starts."


@dataclass(frozen=True, slots=True)
class Offer:
    """One thing found, as the welcome lists it. ``button``: the one click that puts it to use
    (None: in use already)."""

    kind: str
    id: str
    name: str
    detail: str
    state: str
    button: str | None
    colour: str = ""  # the state's, where it has one: in use and answering, or the provider's trouble


def offer(found: Found, served: ProviderState | None = None) -> Offer:
    """``served``: the provider's state as the Providers page and the tray say it, where the
    gateway serves one of that id — so a key in use whose provider refuses it is not called "in use"."""
    kind, in_use, kept = found["kind"], found["in_use"], found["kept"]
    colour = ""
    if in_use and served is not None and served.problem:
        state, button, colour = served.words, None, served.colour
    elif in_use and kept:
        state, button, colour = IN_USE, None, GOOD
    elif in_use:  # a key from the environment: served now, gone at a start without it
        state, button = KEEP_NOTE, "Keep using it"
    else:
        state, button = "Not in use yet", "Use it"
    return Offer(kind, found["id"], found["name"], found["detail"], state, button, colour)


def offers(found: Sequence[Found], status: StatusDocument | None = None) -> list[Offer]:
    """Each thing found, its state agreeing with the providers' in ``status`` (keys and local servers)."""
    served = {p["id"]: provider_state(p) for p in status["providers"]} if status is not None else {}
    return [offer(f, served.get(f["id"]) if f["kind"] in ("key", "local") else None) for f in found]


def model_to_try(rows: Sequence[ModelRow]) -> str | None:
    """The model a test message goes to: the first that can chat and is ready now (a listed model
    before an alias; none that only makes embeddings)."""
    ready = [r for r in rows if r["state"] == "ready" and "embedding" not in r["capabilities"]]
    chosen = next((r for r in ready if r["kind"] == "model"), None) or next(iter(ready), None)
    return chosen["id"] if chosen is not None else None


def answered(tried: Tried) -> str:
    """What the welcome says once a model answered."""
    return f"{tried.model_answered} answered in {tried.seconds:.1f} s. {READY}"
