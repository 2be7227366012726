"""axe-core on a page: the serious and critical violations, described, for an empty-list assert."""

from __future__ import annotations

from axe_playwright_python.sync_playwright import Axe


def serious_violations(page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results.response["violations"]
        if v["impact"] in {"serious", "critical"}
    ]
