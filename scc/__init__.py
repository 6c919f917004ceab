"""Sales Command Center core: settings, the clock and the command line."""

from scc.config import apply_offline_switches

apply_offline_switches()
