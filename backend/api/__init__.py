"""The JSON API under /api/v1: one blueprint (``blueprint.py``), a module per area, thin views."""
from . import (admin_console, admin_revocations, auth, counter, devices, directory,  # noqa: F401
               family, me, oversight, revocations, signup, transit, verify)
from .blueprint import bp  # noqa: F401  (registered by the app factory)
