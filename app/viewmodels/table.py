"""One table model for every list the windows show: rows are the gateway's typed rows (TypedDicts),
columns say how to show them."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

Index = QModelIndex | QPersistentModelIndex
R = TypeVar("R", bound=Mapping[str, object])  # a row: one of the gateway's TypedDicts


@dataclass(frozen=True, slots=True)
class Column(Generic[R]):
    title: str
    show: Callable[[R], object]
    numeric: bool = False


def stamp(at_s: float | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    """A time in seconds since the epoch, in local time (the gateway's fields say their unit)."""
    if not at_s:
        return ""
    return time.strftime(fmt, time.localtime(at_s))


def field(title: str, key: str, numeric: bool = False) -> Column[Any]:
    """A column showing one key of the row as it is (any row type: the key is not checked against it)."""
    return Column(title, lambda row: row.get(key), numeric)


class RowsModel(QAbstractTableModel, Generic[R]):
    def __init__(self, columns: Sequence[Column[R]]) -> None:
        super().__init__()
        self.columns = tuple(columns)
        self.rows: list[R] = []

    def set_rows(self, rows: Sequence[R]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def text(self, row: int, column: int) -> str:
        value = self.columns[column].show(self.rows[row])
        if value is None:
            return ""
        if isinstance(value, float):
            return f"{value:,.1f}"
        if isinstance(value, int) and not isinstance(value, bool):
            return f"{value:,}"
        return str(value)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(index.row(), index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole and self.columns[index.column()].numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self.columns[section].title
        return None
