"""The hostile-input tier: every test here carries the ``hostile`` marker (run alone with ``-m hostile``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.hostile.server import HostileServer
from tests.hostile.world import MB, MEASURED

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).resolve().is_relative_to(HERE):
            item.add_marker(pytest.mark.hostile)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not MEASURED:
        return
    terminalreporter.section("hostile input: CPU seconds and peak extra memory per refused attack")
    for name, usage in MEASURED:
        terminalreporter.write_line(f"{usage.cpu:6.2f} s {usage.peak / MB:7.1f} MB  {name.split('::')[-1]}")


@pytest.fixture
async def hostile_server() -> AsyncIterator[HostileServer]:
    async with HostileServer() as server:
        yield server
