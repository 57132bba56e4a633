"""Errors a user can cause, each reported as one line naming the file, the key and the value.

Every user-facing problem (a bad scenario, a bad table, an unusable output path) is raised as
an :class:`InputError` carrying one or more :class:`Problem` lines. The command line prints
each line and exits with status 2; nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input.

    Formats as ``FILE: table.key: what is wrong (got VALUE)``, the one message format of
    the project (DESIGN §3).
    """

    file: str
    key: str
    what: str
    got: object = None
    has_got: bool = True

    def __str__(self) -> str:
        where = f"{self.file}: {self.key}: " if self.key else f"{self.file}: "
        if not self.has_got:
            return f"{where}{self.what}"
        return f"{where}{self.what} (got {_show(self.got)})"


def _show(value: object) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:77] + "..."


class InputError(Exception):
    """One or more problems with the user's input; exit status 2, nothing written."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    @classmethod
    def one(cls, file: str, key: str, what: str, got: object = None, has_got: bool = True):
        return cls([Problem(file, key, what, got, has_got)])


class OptionError(ValueError):
    """What an analysis cannot do with an option's value: the option (``key``, which the
    command line may fill in), what is wrong and the value; the command line turns it into
    one :class:`ResultsError` line naming the file."""

    def __init__(self, what: str, got: object = None, key: str = ""):
        super().__init__(f"{key}: {what} (got {got})" if key else f"{what} (got {got})")
        self.key, self.what, self.got = key, what, got


class ScenarioError(InputError):
    """A scenario file (or a table it names) is invalid."""


class TableError(InputError):
    """A CSV table is missing or malformed (the message names the file and row)."""


class ResultsError(InputError):
    """A results file cannot be written, read or resumed."""


class Problems:
    """Collects problems so that validation can report every one of them at once."""

    def __init__(self, file: str):
        self.file = file
        self.items: list[Problem] = []

    def add(self, key: str, what: str, got: object = None, has_got: bool = True) -> None:
        self.items.append(Problem(self.file, key, what, got, has_got))

    def extend(self, problems: list[Problem]) -> None:
        self.items.extend(problems)

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, error_type: type[InputError] = ScenarioError) -> None:
        if self.items:
            raise error_type(self.items)


def read_user_file(path, error_type: type[InputError], noun: str, unreadable: str,
                   encoding: str = "utf-8") -> str:
    """The text of a file the user named, or ``error_type`` with one line: ``NOUN not
    found``, or ``UNREADABLE: reason`` (a directory, no permission, not UTF-8)."""
    from pathlib import Path

    try:
        return Path(path).read_text(encoding=encoding)
    except FileNotFoundError:
        raise error_type.one(str(path), "", f"{noun} not found", has_got=False) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error_type.one(str(path), "", f"{unreadable}: {exc}", has_got=False) from None
