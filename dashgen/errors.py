"""Errors dashgen reports to the user as one line, and the exit codes CI branches on.

Exit codes (documented in the README):
  0  done, or nothing to do
  1  failure (stale output for ``build --check``, a failed push, violations found)
  2  bad usage or bad input (catalog errors, unreadable files)
  3  drift or conflict refused (push would overwrite a human's edit or a foreign resource)
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_CONFLICT = 3


class DashgenError(Exception):
    """An error with a one-line, user-facing message and an exit code."""

    exit_code = EXIT_FAILURE

    def __init__(self, message: str, exit_code: int | None = None):
        super().__init__(message)
        if exit_code is not None:
            self.exit_code = exit_code

    @property
    def message(self) -> str:
        return str(self.args[0])


class InputError(DashgenError):
    """Bad input: a catalog, an option or a file the user gave us. Exit code 2."""

    exit_code = EXIT_USAGE


class CatalogError(InputError):
    """A catalog problem located at ``file:line:col``.

    ``str(err)`` is ``path:LINE:COL: what is wrong (how to fix it)``.
    """

    def __init__(self, path: str, line: int, col: int, problem: str, fix: str = ""):
        self.path, self.line, self.col, self.problem, self.fix = path, line, col, problem, fix
        text = f"{path}:{line}:{col}: {problem}"
        if fix:
            text += f" ({fix})"
        # Always one line, whatever a value quoted in the message holds.
        super().__init__(text.replace("\r", "\\r").replace("\n", "\\n"))


class DefinitionError(CatalogError):
    """A problem in a user's definition file, located at ``file:line`` (Python has no useful column).

    A ``CatalogError`` so every command prints it bare, as editors and CI annotations expect.
    """

    def __init__(self, path: str, line: int, problem: str):
        self.path, self.line, self.col, self.problem, self.fix = path, line, 0, problem, ""
        InputError.__init__(self, f"{path}:{line}: {problem}".replace("\r", "\\r").replace("\n", "\\n"))


class CatalogErrors(CatalogError):
    """Every independent problem of one catalog, so that one run shows them all.

    ``str(err)`` is one ``path:LINE:COL: problem (fix)`` line per problem in file order, at
    most ``limit`` of them, then ``path: ... and N more`` when there were more: past a
    screenful, a list stops helping (the first mistakes often explain the later ones).
    ``path``, ``line`` and ``col`` are those of the first problem, and ``errors`` holds all.
    """

    LIMIT = 20

    def __init__(self, errors: list[CatalogError], limit: int = LIMIT):
        self.errors = sorted(errors, key=lambda e: (e.line, e.col))
        first = self.errors[0]
        self.path, self.line, self.col, self.problem, self.fix = first.path, first.line, first.col, first.problem, first.fix
        lines = [e.message for e in self.errors[:limit]]
        if len(self.errors) > limit:
            lines.append(f"{first.path}: ... and {len(self.errors) - limit} more ({len(self.errors)} problems in all)")
        InputError.__init__(self, "\n".join(lines))


class ConflictError(DashgenError):
    """A push refused because of drift or a foreign resource. Exit code 3."""

    exit_code = EXIT_CONFLICT
