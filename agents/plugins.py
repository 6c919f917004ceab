"""The plugin manager: built-in agents as plugins, and third-party ones through entry points (group ``scc``)."""

from __future__ import annotations

import importlib
import logging
import threading

import pluggy

from agents import hookspecs

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "scc"
BUILTIN_PLUGINS = (
    "plugins.orders",
    "plugins.pipeline",
    "plugins.customers",
    "plugins.products",
    "plugins.measures",
    "plugins.transactions",
    "plugins.insights",
    "plugins.tools",
)

_lock = threading.Lock()
_pm: pluggy.PluginManager | None = None


def new_plugin_manager(*, builtins: bool = True, entry_points: bool = True) -> pluggy.PluginManager:
    """A fresh plugin manager with the hook specifications, the built-in plugins and the installed ones."""
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if builtins:
        for name in BUILTIN_PLUGINS:
            pm.register(importlib.import_module(name), name=name)
    if entry_points:
        pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
    pm.check_pending()
    return pm


def get_plugin_manager() -> pluggy.PluginManager:
    """The process-wide plugin manager (created on first use)."""
    global _pm
    with _lock:
        if _pm is None:
            _pm = new_plugin_manager()
        return _pm


def register_plugin(plugin, name: str | None = None) -> None:
    """Register a plugin object or module at run time (tests, notebooks); checks its hook names."""
    pm = get_plugin_manager()
    pm.register(plugin, name=name)
    try:
        pm.check_pending()
    except pluggy.PluginValidationError:
        pm.unregister(plugin)
        raise
    _invalidate()


def unregister_plugin(plugin=None, name: str | None = None) -> None:
    get_plugin_manager().unregister(plugin, name=name)
    _invalidate()


def reset_plugin_manager() -> None:
    global _pm
    with _lock:
        _pm = None
    _invalidate()


def _invalidate() -> None:
    from agents import catalog

    catalog.clear_cache()


def plugin_names() -> list[str]:
    pm = get_plugin_manager()
    return sorted(pm.get_name(p) or repr(p) for p in pm.get_plugins())


def registered_agents() -> dict:
    """name -> agent, in registration order (a later plugin replaces an earlier agent of the same name)."""
    agents: dict = {}
    pm = get_plugin_manager()
    # pluggy calls the most recently registered first: reverse so later registrations win.
    for result in reversed(pm.hook.register_agents()):
        for agent in result or []:
            if not getattr(agent, "name", None):
                raise TypeError(f"agent {agent!r} has no name")
            agents[agent.name] = agent
    return agents


def registered_tools() -> dict:
    tools: dict = {}
    for result in reversed(get_plugin_manager().hook.register_tools()):
        for tool in result or []:
            tools[tool.name] = tool
    return tools
