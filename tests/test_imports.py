"""The layers hold: no module of the project imports another that imports it back, however
indirectly (import-linter's contracts in pyproject.toml say which layer may import which)."""

from __future__ import annotations

import grimp


def test_no_module_is_in_an_import_cycle() -> None:
    graph = grimp.build_graph("bot", "adapters", cache_dir=None)
    cycles = sorted(
        (module, imported)
        for module in graph.modules
        for imported in graph.find_modules_directly_imported_by(module)
        if imported in graph.modules
        and graph.find_shortest_chain(importer=imported, imported=module)
    )
    assert cycles == []
