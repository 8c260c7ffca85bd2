"""The security probe's fixtures: the OpenRosa helpers (forms, users, devices, Digest)."""

from tests.integration.openrosa.conftest import make_device, make_user, publish  # noqa: F401
