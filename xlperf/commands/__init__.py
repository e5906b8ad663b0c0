"""The commands, one module per command or related group (registered in xlperf.cli); heavy imports stay
inside the functions.

click's own texts are made Chinese here, before any command module's decorators read them.
"""

from xlperf.commands import zh

zh.install()
