"""Lineage computed from the dbt manifest alone: the independent gold of the Dagster asset graph checks."""

from __future__ import annotations


def node_key(manifest: dict, unique_id: str) -> str:
    """The asset key (as ``a/b``) the product's conventions give a dbt node: raw_<source>/<table> for
    sources, <folder>/<name> for models."""
    if unique_id.startswith("source."):
        source = manifest["sources"][unique_id]
        return f"raw_{source['source_name']}/{source['name']}"
    node = manifest["nodes"][unique_id]
    return f"{node['fqn'][1]}/{node['name']}"


def models(manifest: dict) -> list[str]:
    return [uid for uid, node in manifest["nodes"].items() if node["resource_type"] == "model"]


def raw_ancestors(manifest: dict, unique_id: str) -> set[str]:
    """The raw tables (dbt sources) a node reads, directly or through other models."""
    parents = manifest["parent_map"]
    seen, stack, out = set(), [unique_id], set()
    while stack:
        for parent in parents.get(stack.pop(), []):
            if parent in seen:
                continue
            seen.add(parent)
            if parent.startswith("source."):
                out.add(node_key(manifest, parent))
            elif parent.startswith("model."):
                stack.append(parent)
    return out


def descendants(manifest: dict, source_keys: set[str]) -> set[str]:
    """Every model downstream of the given raw tables (as asset keys), the raw tables included."""
    children = manifest["child_map"]
    starts = [uid for uid in manifest["sources"] if node_key(manifest, uid) in source_keys]
    seen, stack = set(), list(starts)
    while stack:
        for child in children.get(stack.pop(), []):
            if child.startswith("model.") and child not in seen:
                seen.add(child)
                stack.append(child)
    return {node_key(manifest, uid) for uid in seen} | set(source_keys)
