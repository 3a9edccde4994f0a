"""The admin dashboard. Other modules add pages with these names:

    router          APIRouter(prefix="/admin") holding the admin pages; add routes to it or include your own
    require_admin   FastAPI dependency: the signed-in AdminSession, else a redirect to /admin/login
    require_csrf    the same for POST routes, also checking the form's `csrf` field
    render_admin    render_admin(request, "page.html", session, title=..., **ctx) -> HTMLResponse
    NAV             the top navigation, a list of (label, path) to append to
Templates live in web/admin/templates/ and extend "base.html" (see web/admin/render.py).
"""

from web.admin.auth import AdminSession, require_admin, require_csrf
from web.admin.pages import router
from web.admin.render import NAV, render_admin

__all__ = ["NAV", "AdminSession", "render_admin", "require_admin", "require_csrf", "router"]
