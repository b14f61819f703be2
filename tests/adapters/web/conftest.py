"""What the web tests share: the council's identity provider, local on a free port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.oidc import FakeProvider


@pytest.fixture
async def provider() -> AsyncIterator[FakeProvider]:
    fake = FakeProvider()
    await fake.start()
    yield fake
    await fake.close()
