"""The web UI: server-rendered pages (Jinja2, autoescaped) for CSMs, AMs, AEs, managers and admins."""
