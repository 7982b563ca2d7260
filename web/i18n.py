"""Page language: Chinese by default, English with `?lang=en`; the words of the pages in both.

Words are keyed; `translator(lang)` gives `t(key, **fields)`. The console adds its words with `add_texts`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import urlencode

from starlette.requests import Request

from web.errors import BadParameter

ZH, EN = "zh_CN", "en"
LANGS = {"zh_CN": ZH, "zh": ZH, "en": EN}

TEXTS: dict[str, tuple[str, str]] = {
    "site.title": (
        "成都市中小企业公共服务平台和小企业创业基地",
        "Chengdu SME public service platforms and startup bases",
    ),
    "site.owner": ("成都市中小企业服务中心", "Chengdu SME Service Center"),
    "lang.switch": ("English", "中文"),
    "nav.registry": ("认定名单查询", "Registry"),
    "error.title": ("出错了", "Error"),
    "error.400": ("请求参数有误", "Bad request"),
    "error.404": ("未找到该页面或主体", "Not found"),
    "error.405": ("不支持该请求方法", "Method not allowed"),
    "error.500": ("服务器内部错误，请稍后再试", "Internal error, please try again later"),
    "error.back": ("返回认定名单", "Back to the registry"),
}


def add_texts(texts: Mapping[str, tuple[str, str]]) -> None:
    """Register more words (zh_CN, en); a key may not be defined twice."""
    clash = sorted(set(texts) & set(TEXTS))
    if clash:
        raise ValueError(f"texts defined twice: {', '.join(clash)}")
    TEXTS.update(texts)


def language(request: Request) -> str:
    """`?lang=` of the request: zh_CN (the default) or en; anything else is a 400 naming `lang`."""
    raw = request.query_params.get("lang")
    if raw is None or raw == "":
        return ZH
    if raw not in LANGS:
        raise BadParameter("lang", "应为 zh_CN 或 en", "must be zh_CN or en", raw)
    return LANGS[raw]


def text(lang: str, key: str, **fields: object) -> str:
    zh, en = TEXTS[key]
    template = en if lang == EN else zh
    return template.format(**fields) if fields else template


def translator(lang: str) -> Callable[..., str]:
    def t(key: str, **fields: object) -> str:
        return text(lang, key, **fields)

    return t


def url_with(request: Request, **changes: str | int | None) -> str:
    """This page's path and query with some parameters changed (None removes one); `lang` is kept."""
    params = {k: v for k, v in request.query_params.multi_items()}
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    query = urlencode(params)
    return f"{request.url.path}?{query}" if query else request.url.path


def switch_url(request: Request, lang: str) -> str:
    """The same page in the other language."""
    return url_with(request, lang=None if lang == EN else EN)
