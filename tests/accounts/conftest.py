from __future__ import annotations

import pytest

from tests.accounts.clerk_helpers import ISSUER, PARTY, PUBLISHABLE_KEY, keypair


@pytest.fixture
def clerk(settings):
    settings.AUTH_PROVIDER = "clerk"
    settings.CLERK_JWT_KEY = keypair()[1]
    settings.CLERK_ISSUER = ISSUER
    settings.CLERK_AUTHORIZED_PARTIES = [PARTY]
    settings.CLERK_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.CLERK_WEBHOOK_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    return settings
