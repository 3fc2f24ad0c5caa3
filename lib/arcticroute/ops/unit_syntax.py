"""Values written into systemd units, Task Scheduler XML and PowerShell, each in its own syntax.

A checkout path or a data root is whatever the operator's file system allows: spaces, quotes,
``%``, ``$``, ``&``, non-ASCII. Every value that goes into a generated file passes through the
one function for its place, so it means there exactly what it meant here:

- systemd (systemd.syntax(7), systemd.service(5), systemd.exec(5)): ``%`` starts a specifier
  everywhere, so it is doubled; ExecStart= words are C-escaped inside double quotes and ``$``
  (variable expansion) is doubled; list settings (ReadWritePaths=) take quoted words, ``"``
  inside single quotes; single-path settings (WorkingDirectory=, EnvironmentFile=) are taken
  as they are. systemd refuses an executable whose path holds a quote, a backslash or ``$``:
  such a path runs through /usr/bin/env, as an argument.
- Task Scheduler XML: XML escaping.
- PowerShell: single-quoted literals, the quote doubled (the typographic single quotes too,
  which PowerShell also takes as quotes).

A control character (a newline would add a line, a directive) has no safe spelling anywhere:
it is refused, naming the value.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import PurePosixPath
from urllib.parse import quote
from xml.sax.saxutils import escape

from ..errors import BadInputError

_BARE_WORD = re.compile(r"^[A-Za-z0-9_./:=+,@-]+$")  # means itself in ExecStart= and PowerShell argument lists
_UNSAFE_EXECUTABLE = re.compile(r"[\"'\\$]")  # systemd: "Executable name contains special characters"
_PS_QUOTES = "'\u2018\u2019\u201a\u201b"  # PowerShell ends a single-quoted string at any of these
ENV = "/usr/bin/env"


def checked(value: str, what: str) -> str:
    """``value`` if it has no control character (newline, tab, NUL, line separators), else BadInputError."""
    bad = sorted({c for c in value if unicodedata.category(c) in ("Cc", "Zl", "Zp")})
    if bad:
        shown = ", ".join(f"U+{ord(c):04X}" + (" (newline)" if c == "\n" else "") for c in bad)
        raise BadInputError(f"{what} {value!r} holds a control character ({shown}), which no unit, task or script "
                            "can carry safely; nothing was written",
                            hint="rename the folder (or fix the value) so that it has none, then render again")
    return value


def checked_path(value: str, what: str) -> str:
    """An absolute path fit for a unit: no control character, no whitespace at its end (systemd strips it)."""
    checked(value, what)
    if not PurePosixPath(value).is_absolute():
        raise BadInputError(f"{what} {value!r} is not an absolute path", hint="give the full path, from /")
    if value != value.rstrip():
        raise BadInputError(f"{what} {value!r} ends with whitespace, which systemd strips from a setting",
                            hint="rename the folder so that its name does not end with a space")
    return value


# -- systemd ------------------------------------------------------------------------------------

def _one_line(value: str, what: str) -> str:
    if value.endswith("\\"):
        raise BadInputError(f"{what} {value!r} ends with a backslash, which would join the unit's next line to it",
                            hint="remove the trailing backslash (rename the folder if it is a path)")
    return value


def systemd_text(value: str, what: str) -> str:
    """Free text (Description=) or a single path (WorkingDirectory=, EnvironmentFile=): specifiers escaped."""
    return _one_line(checked(value, what), what).replace("%", "%%")


def systemd_path(value: str, what: str) -> str:
    return _one_line(checked_path(value, what), what).replace("%", "%%")


def systemd_list_path(value: str, what: str, prefix: str = "") -> str:
    """One word of a path list (ReadWritePaths=): quoted, ``"`` in single quotes, ``%`` doubled.
    ``prefix`` (``-``: may be missing) belongs inside the word."""
    text = prefix + checked_path(value, what).replace("%", "%%")
    if _BARE_WORD.match(text.replace("%", "")):
        return text
    parts = re.split(r'("+)', text)
    return "".join(f"'{part}'" if part.startswith('"') else f'"{part}"' for part in parts if part)


def systemd_exec_word(word: str, what: str) -> str:
    """One argument of ExecStart=: bare when it means itself, else C-escaped in double quotes."""
    checked(word, what)
    if word == ";":
        return "\\;"  # a lone ";" would separate two commands
    if _BARE_WORD.match(word):
        return word
    escaped = word.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{escaped}"'


def systemd_exec(argv: list[str], what: str, raw_tail: str = "") -> str:
    """An ExecStart= value running ``argv``; ``raw_tail`` is appended as written (specifiers like %i)."""
    executable = checked_path(argv[0], what)
    if _UNSAFE_EXECUTABLE.search(executable):
        argv = [ENV, *argv]
    first = argv[0].replace("%", "%%")
    first = f'"{first}"' if " " in first else first
    words = [first, *(systemd_exec_word(w, what) for w in argv[1:])]
    return " ".join(words) + (f" {raw_tail}" if raw_tail else "")


def file_url(path: str, what: str) -> str:
    """A file: URL for Documentation= (a space-separated list): percent-encoded, ``%`` then doubled."""
    return "file:" + quote(checked_path(path, what), safe="/").replace("%", "%%")


def systemd_user(name: str) -> str:
    """A user name as systemd accepts it in User= (it takes no quoting at all)."""
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]{0,30}\$?|[0-9]+", name or ""):
        raise BadInputError(f"user {name!r} is not a name systemd accepts in User=",
                            hint="give the login name of the user the jobs run as (letters, digits, _ . -)")
    return name


# -- Windows ------------------------------------------------------------------------------------

def xml_text(value: str, what: str) -> str:
    return escape(checked(value, what), {'"': "&quot;"})


def ps_quote(value: str, what: str) -> str:
    """A PowerShell single-quoted literal: nothing inside is expanded, every quote doubled."""
    checked(value, what)
    return "'" + "".join(c * 2 if c in _PS_QUOTES else c for c in value) + "'"

