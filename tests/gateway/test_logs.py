from __future__ import annotations

import logging
import os
from pathlib import Path

from gateway.runtime.logs import start_logging


def test_log_lines_are_redacted_and_the_file_is_private(tmp_path: Path) -> None:
    old_handlers, old_level = logging.getLogger().handlers[:], logging.getLogger().level
    listener = start_logging("info", tmp_path)
    try:
        logging.getLogger("gateway.test").warning("upstream said: bad key sk-proj-CANARY0123456789abcdef")
    finally:
        listener.stop()
        logging.getLogger().handlers[:] = old_handlers
        logging.getLogger().setLevel(old_level)
    text = (tmp_path / "gateway.log").read_text()
    assert "upstream said" in text and "CANARY0123456789" not in text
    if os.name == "posix":
        assert (tmp_path / "gateway.log").stat().st_mode & 0o777 == 0o600
