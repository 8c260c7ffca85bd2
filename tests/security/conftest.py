"""The security probe's fixtures: OpenRosa helpers (forms, users, devices, Digest), API tokens."""

from tests.integration.api.conftest import submit, token_for  # noqa: F401
from tests.integration.openrosa.conftest import make_device, make_user, publish  # noqa: F401
