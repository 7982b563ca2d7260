"""Route modules: each has `routes() -> list[BaseRoute]`, listed in `web.app.ROUTE_MODULES`.

A route is thin: parse and check parameters (`web.params`), read through the service the command line uses,
render (`web.render.render` for a page, `JSONResponse` under /api)."""
