"""The public registry (SPEC 8, Art. 16): `/registry` (search) and `/registry/{credit_code}`. No login; works
without JavaScript (a GET form, links for the pages)."""

from __future__ import annotations

from sqlalchemy import Connection
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from monitor import registry
from monitor.domain import Kind
from web import params
from web.context import app_state, request_today
from web.errors import NotFound
from web.i18n import add_texts
from web.render import render

PER_PAGE = 50

add_texts(
    {
        "registry.title": ("中小企业公共服务平台和小企业创业基地认定名单", "Certified platforms and bases"),
        "registry.intro": (
            "依据《认定管理办法》第十六条，向社会公众公开认定情况，方便查询和监督。状态按北京时间今日计算。",
            "Published under Art. 16 of the Measures for the public to query and supervise. "
            "Statuses are as of today, Beijing time.",
        ),
        "registry.q": ("名称或统一社会信用代码", "Name or credit code"),
        "registry.district": ("所属区（市）县", "District"),
        "registry.kind": ("类型", "Kind"),
        "registry.status": ("状态", "Status"),
        "registry.any": ("全部", "Any"),
        "registry.search": ("查询", "Search"),
        "registry.count": ("共 {total} 条", "{total} found"),
        "registry.page_of": ("第 {page} / {pages} 页", "Page {page} of {pages}"),
        "registry.prev": ("上一页", "Previous"),
        "registry.next": ("下一页", "Next"),
        "registry.none": ("没有符合条件的主体。", "No entity matches."),
        "registry.credit_code": ("统一社会信用代码", "Credit code"),
        "registry.name": ("名称", "Name"),
        "registry.cert_no": ("证书编号", "Certificate no."),
        "registry.certified_on": ("认定日期", "Certified on"),
        "registry.expires_on": ("有效期至", "Valid until"),
        "registry.back": ("返回名单", "Back to the registry"),
        "registry.json": ("数据接口 (JSON)", "API (JSON)"),
        "registry.not_found": ("未找到该主体", "No such entity in the registry"),
        "kind.platform": ("平台", "platform"),
        "kind.base": ("基地", "base"),
        "status.active": ("有效", "active"),
        "status.suspended": ("暂停", "suspended"),
        "status.revoked": ("撤销", "revoked"),
        "status.expired": ("到期", "expired"),
    }
)


def _fresh(request: Request, conn: Connection) -> None:
    """The kept answer made fresh for today, checked on the request's connection (its reads follow on it)."""
    state = app_state(request)
    state.freshness.ensure(state.db, request_today(request), conn)


def _districts(request: Request) -> tuple[str, ...]:
    return tuple(d.name for d in app_state(request).settings.districts)


def registry_list(request: Request) -> Response:
    districts = _districts(request)
    filters = params.registry_filters(request, districts)
    page_no = params.integer(request, "page", 1, 1)
    with app_state(request).db.engine.connect() as conn:  # a read: no session, no transaction to commit
        _fresh(request, conn)
        page = registry.search(conn, filters, page_no, PER_PAGE)
    return render(
        request,
        "registry/list.html",
        {
            "page": page,
            "filters": filters,
            "districts": districts,
            "kinds": [k.value for k in Kind],
            "statuses": [s.value for s in registry.PUBLIC_STATUSES],
        },
    )


def registry_entity(request: Request) -> Response:
    code = request.path_params["credit_code"]
    with app_state(request).db.engine.connect() as conn:
        _fresh(request, conn)
        item = registry.get(conn, code)
    if item is None:
        raise NotFound("该主体不在认定名单中", "no such entity in the registry")
    return render(request, "registry/entity.html", {"item": item})


def routes() -> list[BaseRoute]:
    return [
        Route("/registry", registry_list, name="registry"),
        Route("/registry/{credit_code}", registry_entity, name="registry_entity"),
    ]
