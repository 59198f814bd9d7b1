"""The JSON API under /api/v1: one blueprint (``blueprint.py``), a module per area, thin views."""
from . import (admin_console, admin_revocations, auth, counter, devices, directory,  # noqa: F401
               family, me, oversight, revocations, signup, transit, venues, verify)
from . import certificates  # noqa: F401  (issue 19)
from . import inpatient  # noqa: F401  (issue 17)
from . import his  # noqa: F401  (issue 18: the national interface, its own blueprint)
from .blueprint import bp  # noqa: F401  (registered by the app factory)
