"""The dashboard: the bot owner's pages, server-rendered with Jinja2 and htmx.

Everything lives under ``/dashboard``; ``install_dashboard`` (setup.py) mounts it. How a page
is added:

1. A module in this package that defines ``router = page_router()`` (from
   ``konversation.dashboard.web``) is found and included by ``install_dashboard``; nothing
   else needs registering. Its routes use full paths (``@router.get("/dashboard/flows")``).
   ``page_router()`` gives every route the dashboard's behaviour: a CSRF check on each
   POST/PUT/PATCH/DELETE, errors shown as HTML pages (a ``KonversationError`` from a service
   becomes its status with an error page; a ``LoginRequired`` a redirect to the login page),
   and the security headers.
2. The handler takes ``viewer: CurrentUser`` (or ``viewer: Annotated[Viewer,
   Depends(require_role(Role.OWNER, Role.ADMIN))]``) and ``session: DbSession`` from
   ``konversation.dashboard.web``; ``viewer`` holds the user, their memberships, and the
   workspace and bot chosen in the switcher (``viewer.workspace``, ``viewer.bot``, both
   possibly None, ``viewer.role``).
3. It answers ``render(request, "flows/list.html", {...})``; the template starts with
   ``{% extends "base.html" %}`` and fills ``{% block title %}`` and ``{% block content %}``
   (``{% block nav %}`` in base.html marks the active left-nav link from
   ``request.url.path``). Every template sees ``viewer``, ``csrf_token``, ``csrf_input()``
   and ``static(path)``.
4. Every ``<form method="post">`` contains ``{{ csrf_input() }}``; htmx requests send the
   token by themselves (``hx-headers`` on ``<body>``). No inline ``<script>`` or ``hx-on``:
   the pages are served with ``script-src 'self'``; put behaviour in ``static/dashboard.js``
   or a new file under ``static/``. htmx swaps 2xx and 422 answers, so a form answered with
   status 422 shows its errors.
5. ``flash(request, "Saved.")`` shows a message on the next page rendered.
"""
