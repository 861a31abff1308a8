"""The colours that carry meaning, without Qt, so view models can name them too: good, warning,
bad and idle (the gateway's state on the tray icon and Overview, the providers' tones, the
meters), and a chart's series."""

from __future__ import annotations

GOOD, WARN, BAD, IDLE = "#2e9e5b", "#d99a1e", "#c94040", "#7d8590"
# A chart's series, in order: told apart in both schemes and by those who see fewer colours.
SERIES = ("#3b7dd8", "#e07b39", "#2e9e5b", "#9b59b6", "#d4a017", "#17a2b8", "#c94040", "#7d8590")
