"""The admin dashboard. Other modules add pages with these names:

    router          APIRouter(prefix="/admin") holding the admin pages; add routes to it or include your own
    require_role    require_role("viewer" | "editor" | "owner"): the dependency every admin route declares, in one
                    line; the signed-in AdminSession if their role is enough (403 otherwise), a redirect to
                    /admin/login when nobody is, and the form's `csrf` field checked on anything but GET
    require_admin   = require_role("viewer"): pages, and forms that only read (a search, an export)
    require_csrf    = require_role("editor"): forms that change something
    require_owner   = require_role("owner"): the team
    render_admin    render_admin(request, "page.html", session, title=..., **ctx) -> HTMLResponse; templates get
                    `staff` (who is signed in) and `can_edit` (editor or owner) to offer only what they may do
    NAV             the top navigation, a list of (label, path) to append to
Templates live in web/admin/templates/ and extend "base.html" (see web/admin/render.py). tests/web/test_admin_roles.py
walks every admin route: one without a role fails it.
"""

from web.admin.auth import AdminSession, require_admin, require_csrf, require_owner, require_role
from web.admin.pages import router
from web.admin.render import NAV, render_admin

__all__ = [
    "NAV",
    "AdminSession",
    "render_admin",
    "require_admin",
    "require_csrf",
    "require_owner",
    "require_role",
    "router",
]
