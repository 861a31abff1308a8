"""The app's memory of its first start: a file it reads once and writes whole, which a damaged or
missing copy of never stops (better welcomed twice than never), and where every mark made is kept."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from app.first_run import FILE_NAME, TRAY_NOTICE, WELCOMED, FirstRun


def _saved(folder: Path) -> object:
    return json.loads((folder / FILE_NAME).read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "damaged", ["{not json", "[true]", '{"welcomed": "yes"}', "\udcff"], ids=["json", "list", "value", "utf8"]
)
def test_a_damaged_file_is_read_as_nothing_seen_and_written_anew(tmp_path: Path, damaged: str) -> None:
    (tmp_path / FILE_NAME).write_bytes(damaged.encode("utf-8", "surrogateescape"))
    first_run = FirstRun(lambda: tmp_path)
    assert not first_run.seen(WELCOMED)
    asyncio.run(first_run.mark(WELCOMED))
    assert _saved(tmp_path) == {WELCOMED: True} and FirstRun(lambda: tmp_path).seen(WELCOMED)


def test_marks_made_together_are_all_kept_and_no_partial_file_is_left(tmp_path: Path) -> None:
    first_run = FirstRun(lambda: tmp_path)

    async def both() -> None:
        await asyncio.gather(first_run.mark(WELCOMED), first_run.mark(TRAY_NOTICE), first_run.mark(WELCOMED))

    asyncio.run(both())
    assert _saved(tmp_path) == {WELCOMED: True, TRAY_NOTICE: True}
    assert [p.name for p in tmp_path.iterdir()] == [FILE_NAME]


def test_a_folder_that_cannot_be_written_costs_only_a_second_welcome(tmp_path: Path) -> None:
    gone = tmp_path / "no-such-folder"
    first_run = FirstRun(lambda: gone)
    asyncio.run(first_run.mark(WELCOMED))  # said in the log, not raised
    assert first_run.seen(WELCOMED) and not gone.exists()  # seen for this run; asked again at the next


def test_the_file_follows_the_data_folder_when_it_moves(tmp_path: Path) -> None:
    folder = [tmp_path / "a"]
    for f in (tmp_path / "a", tmp_path / "b"):
        f.mkdir()
    first_run = FirstRun(lambda: folder[0])
    folder[0] = tmp_path / "b"
    asyncio.run(first_run.mark(TRAY_NOTICE))
    assert _saved(tmp_path / "b") == {TRAY_NOTICE: True} and not (tmp_path / "a" / FILE_NAME).exists()


def test_a_write_that_fails_midway_leaves_the_old_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first_run = FirstRun(lambda: tmp_path)
    asyncio.run(first_run.mark(WELCOMED))

    def full(self: Path, target: Path) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", full)
    asyncio.run(first_run.mark(TRAY_NOTICE))
    assert _saved(tmp_path) == {WELCOMED: True} and [p.name for p in tmp_path.iterdir()] == [FILE_NAME]
