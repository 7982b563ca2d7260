"""The columns of each import file and the headers they may carry, in English or Chinese (SPEC section 6)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from monitor.applications.conditions import figure_fields
from monitor.applications.fields import BY_NAME


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    zh: str
    aliases: tuple[str, ...] = ()
    required: bool = False  # the header must have this column

    @property
    def label(self) -> str:
        return f"{self.zh} / {self.name}"


def normalize(header: object) -> str:
    """A header as matched: full-width forms folded (NFKC), no spaces, underscores, hyphens or '*' markers."""
    text = unicodedata.normalize("NFKC", str(header)).casefold()
    return "".join(c for c in text if not c.isspace() and c not in "_-*\ufeff")


_CREDIT_CODE = Field("credit_code", "统一社会信用代码", ("creditcode", "code", "社会信用代码", "信用代码"))
_DISTRICT = ("区县", "所属区(市)县", "区(市)县", "所属区市县", "所属区域")

ENTITY_FIELDS: tuple[Field, ...] = (
    Field(_CREDIT_CODE.name, _CREDIT_CODE.zh, _CREDIT_CODE.aliases, required=True),
    Field("name", "名称", ("单位名称", "企业名称", "主体名称", "平台名称", "基地名称"), required=True),
    Field("kind", "类型", ("type", "类别", "主体类型"), required=True),
    Field("district", "所属区县", _DISTRICT, required=True),
    Field("certified_on", "认定日期", ("认定时间", "certified")),
    Field("cert_no", "证书编号", ("certificateno", "certno", "证书号", "牌匾编号")),
    Field("email", "联系邮箱", ("emails", "e-mail", "邮箱", "电子邮箱", "电子邮件")),
    Field("scheme", "认定依据", ("认定办法",)),
    Field("functions", "服务功能", ("认定服务功能",)),
)


def _figure_fields() -> tuple[Field, ...]:
    """The month's service figures a filing may carry (SPEC 9): the fields of the function conditions."""
    return tuple(Field(name, BY_NAME[name].zh, BY_NAME[name].aliases) for name in figure_fields())


FILING_FIELDS: tuple[Field, ...] = (
    Field(_CREDIT_CODE.name, _CREDIT_CODE.zh, _CREDIT_CODE.aliases, required=True),
    Field("period", "填报月份", ("month", "月份", "所属月份"), required=True),
    Field("filed_on", "填报日期", ("filed", "填报时间"), required=True),
    *_figure_fields(),
)

EVENT_FIELDS: tuple[Field, ...] = (
    # Not required in the header: a file of district reports has district and year instead.
    _CREDIT_CODE,
    Field("kind", "类型", ("type", "event", "事件类型", "事件"), required=True),
    Field("date", "日期", ("发生日期", "事件日期"), required=True),
    Field("result", "结果", ("测评结果", "审核结果")),
    Field("detail", "详情", ("说明",)),
    Field("note", "备注", ("notes",)),
    Field("district", "所属区县", _DISTRICT),
    Field("year", "年度", ("报告年度", "申报年度")),
    Field("period", "填报月份", ("month", "月份")),
    Field("cert_no", "证书编号", ("certno", "证书号")),
    Field("scheme", "认定依据", ("认定办法",)),
)


def alias_table(fields: Sequence[Field]) -> dict[str, int]:
    """Normalized header -> index into `fields`."""
    table: dict[str, int] = {}
    for i, f in enumerate(fields):
        for name in (f.name, f.zh, *f.aliases):
            table[normalize(name)] = i
    return table
