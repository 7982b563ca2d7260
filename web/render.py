"""Pages: Jinja2 templates (autoescaped) in the one layout, `templates/base.html`.

Every page gets `lang`, `t` (its words), `words(prefix, values)` (value -> word), `lang_url` (the same page in the other language), `nav` (the menu:
each `NAV_PROVIDERS` entry adds its links; the console adds its own), `static(path)` and `url_with(...)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from notifications.texts import rule_title
from web import i18n

TEMPLATES = Path(__file__).resolve().parent / "templates"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"], default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,  # templates ship with the code: no stat() of the file on every page (3 % of a request)
)


@dataclass(frozen=True)
class NavItem:
    href: str
    label: str
    active: bool = False


def _registry_nav(request: Request, t: Callable[..., str]) -> list[NavItem]:
    return [NavItem("/registry", t("nav.registry"), request.url.path.startswith("/registry"))]


# Each provider returns the menu links it owns for this request (the console adds one that reads the session).
NAV_PROVIDERS: list[Callable[[Request, Callable[..., str]], list[NavItem]]] = [_registry_nav]


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    lang: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    lang = lang or i18n.language(request)
    t = i18n.translator(lang)
    with_lang = {} if lang == i18n.ZH else {"lang": "en"}

    def url_with(**changes: str | int | None) -> str:
        return i18n.url_with(request, **changes)

    def link(path: str, **params: str | int | None) -> str:
        """A link to another page of the site, in this page's language."""
        from urllib.parse import urlencode

        query = urlencode({**{k: str(v) for k, v in params.items() if v not in (None, "")}, **with_lang})
        return f"{path}?{query}" if query else path

    nav = [item for provider in NAV_PROVIDERS for item in provider(request, t)]
    data = {
        "request": request,
        "lang": lang,
        "html_lang": "en" if lang == i18n.EN else "zh-CN",
        "t": t,
        "lang_url": i18n.switch_url(request, lang),
        "nav": nav,
        "static": lambda path: f"/static/{path}",
        "rule_title": lambda rule: rule_title(rule, "en" if lang == i18n.EN else "zh_CN"),
        "url_with": url_with,
        "link": link,
        "lang_query": "?lang=en" if with_lang else "",  # for links in long lists: cheaper than link() a row
        # words("kind.", kinds) -> {value: word}: for the rows of a long list, looked up once a page (a call
        # in a template costs more than the row)
        "words": lambda prefix, values: {v: t(prefix + v) for v in values},
        **(context or {}),
    }
    body = env.get_template(template).render(data)
    return HTMLResponse(body, status_code=status_code, headers=dict(headers or {}))
