"""The one base of every error xlperf reports to a clerk.

An :class:`XlperfError` is expected: bad input, an output that cannot be written, a refused
submission. Its text (Chinese, naming the file, cell or option, saying what to do) is shown as one
message by the edge that caught it — the command line or the ribbon — with the class's exit code;
anything else is a bug and is reported as such. Subclasses live with the code that raises them;
:class:`InputError` lives here because both forms' pipelines (``xlperf.pipeline``, and
``xlperf.project.pipeline`` below it) raise it.
"""

from __future__ import annotations

from typing import ClassVar


class XlperfError(Exception):
    """An error for the clerk: ``str(exc)`` is the message; ``exit_code`` what the command returns."""

    #: 2: the input could not be read or the command was used wrongly (docs/DESIGN.md); 1: refused findings
    exit_code: ClassVar[int] = 2
    #: how the command line introduces the message
    prefix: ClassVar[str] = "错误："
    #: a second line the command line prints after the message (what happened to the files)
    note: ClassVar[str] = ""
    #: what to type instead, for the command line only (the web page and Excel have buttons: their
    #: message never shows an option such as --force); set on the instance
    command_hint: str = ""


class InputError(XlperfError):
    """The input cannot be read at all (exit 2); the message is for the clerk."""
