"""The conditions of Arts. 4-7 as data: one table, read by the evaluator, the template and the docs.

Each condition is a small tree of tests on the application's fields. A test is three-valued: `met`, `unmet`,
or `unknown` when a field it reads is empty. "以上" and "不少于" include the number itself (Civil Code Art. 1259),
so every threshold is `>=`; "稳步增长" is read as each year more than the one before (docs/rules.md).
"""

from __future__ import annotations

import enum
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from monitor import legal_time as lt
from monitor.applications.fields import label
from monitor.domain import Kind


class Result(enum.StrEnum):
    MET = "met"
    UNMET = "unmet"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Context:
    """What a test may need beyond the fields: the Art. 22 ban on the entity (first and last day), if any."""

    ban: tuple[date, date] | None = None


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    value: Any  # the figure or yes/no read (None when unknown)


Values = Mapping[str, Any]


class Node:
    """One test, or a combination of tests."""

    def fields(self) -> tuple[str, ...]:
        raise NotImplementedError

    def check(self, v: Values, ctx: Context) -> Outcome:
        raise NotImplementedError

    def need(self, locale: str) -> str:
        raise NotImplementedError


def _given(v: Values, name: str) -> Any:
    value = v.get(name)
    return None if value is None or value == "" else value


@dataclass(frozen=True, slots=True)
class AtLeast(Node):
    """field >= threshold ("以上", "不少于", "不低于": the number itself is enough)."""

    field: str
    threshold: float
    unit: str = ""

    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    def check(self, v: Values, ctx: Context) -> Outcome:
        value = _given(v, self.field)
        if value is None:
            return Outcome(Result.UNKNOWN, None)
        return Outcome(Result.MET if value >= self.threshold else Result.UNMET, value)

    def need(self, locale: str) -> str:
        n = int(self.threshold) if float(self.threshold).is_integer() else self.threshold
        return f"{label(self.field, locale)} ≥ {n}{self.unit}"


@dataclass(frozen=True, slots=True)
class Yes(Node):
    """A yes/no field the applicant or the district attests."""

    field: str

    def fields(self) -> tuple[str, ...]:
        return (self.field,)

    def check(self, v: Values, ctx: Context) -> Outcome:
        value = _given(v, self.field)
        if value is None:
            return Outcome(Result.UNKNOWN, None)
        return Outcome(Result.MET if value is True else Result.UNMET, value)

    def need(self, locale: str) -> str:
        return f"{label(self.field, locale)}：是" if locale == "zh_CN" else f"{self.field} = yes"


@dataclass(frozen=True, slots=True)
class RegisteredYears(Node):
    """Registered `years` years or more before the application date: registered_on + years (Art. 202's
    corresponding day, the month's last day when there is none) is on or before applied_on."""

    years: int = 3

    def fields(self) -> tuple[str, ...]:
        return ("registered_on", "applied_on")

    def check(self, v: Values, ctx: Context) -> Outcome:
        registered, applied = _given(v, "registered_on"), _given(v, "applied_on")
        if registered is None or applied is None:
            return Outcome(Result.UNKNOWN, registered)
        enough = lt.period_end(registered, years=self.years) <= applied
        return Outcome(Result.MET if enough else Result.UNMET, registered)

    def need(self, locale: str) -> str:
        if locale == "zh_CN":
            return f"注册登记满{self.years}年（至申报日期）"
        return f"registered {self.years} years or more before applied_on"


@dataclass(frozen=True, slots=True)
class NoBan(Node):
    """No Art. 22 ban running on the application date (the ban's first to last day, inclusive)."""

    def fields(self) -> tuple[str, ...]:
        return ("applied_on",)

    def check(self, v: Values, ctx: Context) -> Outcome:
        applied = _given(v, "applied_on")
        if applied is None:
            return Outcome(Result.UNKNOWN, None)
        if ctx.ban is not None and ctx.ban[0] <= applied <= ctx.ban[1]:
            return Outcome(Result.UNMET, ctx.ban[1])
        return Outcome(Result.MET, applied)

    def need(self, locale: str) -> str:
        return "无第二十二条禁止申报期" if locale == "zh_CN" else "no Art. 22 ban running"


@dataclass(frozen=True, slots=True)
class Share(Node):
    """part / whole >= percent ("比例占80%以上")."""

    part: str
    whole: str
    percent: int

    def fields(self) -> tuple[str, ...]:
        return (self.part, self.whole)

    def check(self, v: Values, ctx: Context) -> Outcome:
        part, whole = _given(v, self.part), _given(v, self.whole)
        if part is None or whole is None:
            return Outcome(Result.UNKNOWN, None)
        if whole <= 0:
            return Outcome(Result.UNMET, 0)
        share = round(100 * part / whole, 1)
        return Outcome(Result.MET if 100 * part >= self.percent * whole else Result.UNMET, share)

    def need(self, locale: str) -> str:
        return f"{label(self.part, locale)} / {label(self.whole, locale)} ≥ {self.percent}%"


@dataclass(frozen=True, slots=True)
class Growing(Node):
    """Each year more than the one before ("稳步增长"), over the fields oldest first."""

    series: tuple[str, ...]

    def fields(self) -> tuple[str, ...]:
        return self.series

    def check(self, v: Values, ctx: Context) -> Outcome:
        values = [_given(v, f) for f in self.series]
        if any(x is None for x in values):
            return Outcome(Result.UNKNOWN, None)
        grew = all(b > a for a, b in itertools.pairwise(values))
        return Outcome(Result.MET if grew else Result.UNMET, values[-1])

    def need(self, locale: str) -> str:
        return " < ".join(label(f, locale) for f in self.series)


@dataclass(frozen=True, slots=True)
class ClaimsOne(Node):
    """At least one of the given functions is claimed (Art. 4 (1): 至少一种服务)."""

    among: tuple[str, ...]

    def fields(self) -> tuple[str, ...]:
        return ("functions",)

    def check(self, v: Values, ctx: Context) -> Outcome:
        claimed = v.get("functions")
        if claimed is None:
            return Outcome(Result.UNKNOWN, None)
        n = sum(1 for f in claimed if f in self.among)
        return Outcome(Result.MET if n >= 1 else Result.UNMET, n)

    def need(self, locale: str) -> str:
        return "至少申报一种服务功能" if locale == "zh_CN" else "at least one function claimed"


@dataclass(frozen=True, slots=True)
class FloorArea(Node):
    """Art. 6 operating (1): >= 60,000 m2 for a manufacturing park, >= 8,000 m2 for an office-building park."""

    by_type: tuple[tuple[str, int], ...] = (("manufacturing", 60_000), ("office", 8_000))

    def fields(self) -> tuple[str, ...]:
        return ("park_type", "floor_area")

    def check(self, v: Values, ctx: Context) -> Outcome:
        park, area = _given(v, "park_type"), _given(v, "floor_area")
        if park is None or area is None:
            return Outcome(Result.UNKNOWN, area)
        need = dict(self.by_type)[park]
        return Outcome(Result.MET if area >= need else Result.UNMET, area)

    def need(self, locale: str) -> str:
        if locale == "zh_CN":
            return "建筑总面积 ≥ 60000㎡（制造业园区）/ 8000㎡（楼宇经济园）"
        return "floor_area ≥ 60000 m² (manufacturing) / 8000 m² (office)"


@dataclass(frozen=True, slots=True)
class All(Node):
    parts: tuple[Node, ...]

    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f for p in self.parts for f in p.fields()))

    def check(self, v: Values, ctx: Context) -> Outcome:
        outcomes = [p.check(v, ctx) for p in self.parts]
        for o in outcomes:
            if o.result is Result.UNMET:
                return o
        for o in outcomes:
            if o.result is Result.UNKNOWN:
                return Outcome(Result.UNKNOWN, None)
        return Outcome(Result.MET, outcomes[0].value)

    def need(self, locale: str) -> str:
        return ("；" if locale == "zh_CN" else "; ").join(p.need(locale) for p in self.parts)


@dataclass(frozen=True, slots=True)
class AnyOf(Node):
    parts: tuple[Node, ...]

    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(f for p in self.parts for f in p.fields()))

    def check(self, v: Values, ctx: Context) -> Outcome:
        outcomes = [p.check(v, ctx) for p in self.parts]
        for o in outcomes:
            if o.result is Result.MET:
                return o
        for o in outcomes:
            if o.result is Result.UNKNOWN:
                return Outcome(Result.UNKNOWN, None)
        return outcomes[0]

    def need(self, locale: str) -> str:
        word = " 或 " if locale == "zh_CN" else " or "
        return "(" + word.join(p.need(locale) for p in self.parts) + ")"


@dataclass(frozen=True, slots=True)
class Leased(Node):
    """ "运营单位建筑产权占基地总产权的70%以上（租赁基地除外）": a leased base need not own 70 %."""

    def fields(self) -> tuple[str, ...]:
        return ("leased", "owned_share")

    def check(self, v: Values, ctx: Context) -> Outcome:
        leased = _given(v, "leased")
        if leased is True:
            return Outcome(Result.MET, True)
        owned = AtLeast("owned_share", 70, "%").check(v, ctx)
        if leased is None and owned.result is not Result.MET:
            return Outcome(Result.UNKNOWN, None)
        return owned

    def need(self, locale: str) -> str:
        return "租赁基地，或运营单位产权占比 ≥ 70%" if locale == "zh_CN" else "leased = yes or owned_share ≥ 70%"


# --- The conditions -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Condition:
    id: str
    article: int
    item: int | None  # None for the aggregates A5 and A7
    test: Node
    zh: str
    en: str
    function: str | None = None  # A5-n / A7-n: the function it serves
    operating: bool = False  # A6-O*: Art. 6's operating conditions (第六条第二款)

    @property
    def fields(self) -> tuple[str, ...]:
        return _fields(self.test)

    @property
    def where_zh(self) -> str:
        from monitor.rules.messages import article_zh

        if self.item is None:
            return article_zh(self.article)
        para = "第二款" if self.operating else ""
        return f"{article_zh(self.article)}{para}第（{_ZH_NUM[self.item]}）项"


@cache
def _fields(test: Node) -> tuple[str, ...]:
    return test.fields()


_ZH_NUM = {1: "一", 2: "二", 3: "三", 4: "四", 5: "五", 6: "六", 7: "七", 8: "八"}

PLATFORM_FUNCTIONS: dict[str, str] = {"policy": "A5-1", "consulting": "A5-2", "training": "A5-3", "technical": "A5-4"}
BASE_FUNCTIONS: dict[str, str] = {
    "information": "A7-1",
    "coaching": "A7-2",
    "innovation": "A7-3",
    "training": "A7-4",
    "marketing": "A7-5",
    "financing": "A7-6",
    "consulting": "A7-7",
    "professional": "A7-8",
}
FUNCTIONS: dict[Kind, dict[str, str]] = {Kind.PLATFORM: PLATFORM_FUNCTIONS, Kind.BASE: BASE_FUNCTIONS}
FUNCTION_ZH = {
    Kind.PLATFORM: {"policy": "政策服务", "consulting": "咨询服务", "training": "培训服务", "technical": "技术服务"},
    Kind.BASE: {
        "information": "信息服务",
        "coaching": "创业辅导",
        "innovation": "创新支持",
        "training": "人员培训",
        "marketing": "市场营销",
        "financing": "投融资服务",
        "consulting": "管理咨询",
        "professional": "专业服务",
    },
}
# How many claimed functions must be met: Art. 5 "至少一项", Art. 7 "不少于以下4种".
FUNCTIONS_NEEDED = {Kind.PLATFORM: 1, Kind.BASE: 4}

A = AtLeast
CONDITIONS: tuple[Condition, ...] = (
    Condition(
        "A4-1",
        4,
        1,
        All(
            (
                Yes("legal_person"),
                RegisteredYears(3),
                A("registered_capital", 100, "万元"),
                ClaimsOne(tuple(PLATFORM_FUNCTIONS)),
            )
        ),
        "具有独立法人资格，在本市行政区域内登记（注册）3年以上，注册资金不低于100万元，"
        "为中小企业提供政策、咨询、培训、技术等服务中的至少一种服务（第四条第（一）项）",
        "An independent legal person registered in Chengdu 3 years or more, registered capital of at least"
        " CNY 1 million, offering at least one of policy, consulting, training or technical services (Art. 4 (1))",
    ),
    Condition(
        "A4-2",
        4,
        2,
        All((Yes("fixed_premises"), Yes("sound_finances"))),
        "有固定的经营服务场所和必要的服务设施；财务收支状况良好（第四条第（二）项）",
        "Fixed premises and the necessary facilities; sound finances (Art. 4 (2))",
    ),
    Condition(
        "A4-3",
        4,
        3,
        AnyOf((A("partner_institutions", 5), A("external_experts", 10))),
        "集聚服务机构5家以上或拥有10名以上外部专家资源库（第四条第（三）项）",
        "At least 5 partner service institutions, or a pool of at least 10 external experts (Art. 4 (3))",
    ),
    Condition(
        "A4-4",
        4,
        4,
        All((A("full_time_staff", 10), Share("qualified_staff", "full_time_staff", 80))),
        "从事为中小企业服务的专职人员不少于10人，其中大专及以上学历和中级及以上技术职称专业人员的比例占80%以上"
        "（学历和职称不重复计算）（第四条第（四）项）",
        "At least 10 full-time staff serving SMEs, at least 80 % of them with a college degree or a mid-level"
        " title, each counted once (Art. 4 (4))",
    ),
    Condition(
        "A4-5",
        4,
        5,
        Yes("management_system"),
        "有健全的管理制度、规范的服务流程、合理的收费标准和完善的服务质量保证措施，"
        "有明确的服务发展规划和年度服务目标（第四条第（五）项）",
        "A management system, service process, fee standard, quality measures, a plan and annual targets (Art. 4 (5))",
    ),
    Condition(
        "A4-6",
        4,
        6,
        All(
            (
                Growing(("served_3y_ago", "served_2y_ago", "served_last_year")),
                A("satisfaction", 90, "%"),
                Yes("joins_activities"),
            )
        ),
        "近3年服务企业数量稳步增长；服务的中小企业客户满意度在90%以上；"
        "积极参加中小企业主管部门组织的服务中小企业相关活动（第四条第（六）项）",
        "Enterprises served grew in each of the last 3 years; client satisfaction of at least 90 %; takes part"
        " in the authorities' SME activities (Art. 4 (6))",
    ),
    Condition(
        "A4-7",
        4,
        7,
        All((Yes("clean_record"), NoBan())),
        "单位和法人代表近3年内没有违法违规、失信及被列入经营异常名录等情形；"
        "申报之日不在第二十二条规定的3年内不得再次申报期间（第四条第（七）项）",
        "No violation, dishonesty or abnormal-operation listing of the unit or its legal representative in"
        " 3 years, and no Art. 22 ban running on the application date (Art. 4 (7))",
    ),
    Condition(
        "A5-1",
        5,
        1,
        All((Yes("policy_system"), AnyOf((A("policy_online", 300), A("policy_offline", 100))))),
        "政策服务：形成开放的政策服务系统，具有在线服务、线上线下联动功能；"
        "线上年服务企业数量300家以上，或线下年服务企业数量100家以上（第五条第（一）项）",
        "Policy services: an open online policy service system; at least 300 enterprises a year online or"
        " 100 offline (Art. 5 (1))",
        function="policy",
    ),
    Condition(
        "A5-2",
        5,
        2,
        AnyOf((A("consulting_offline", 50), A("matchmaking_activities", 5))),
        "咨询服务：线下年服务中小企业数量50家以上；主要开展供需对接服务的，"
        "年组织开展15家以上中小企业参加的相关服务活动不低于5次（第五条第（二）项）",
        "Consulting: at least 50 SMEs a year offline; or, for matchmaking, at least 5 activities a year each"
        " with at least 15 SMEs (Art. 5 (2))",
        function="consulting",
    ),
    Condition(
        "A5-3",
        5,
        3,
        All((Yes("training_capability"), A("training_total", 500, "人次"), A("training_offline", 200, "人次"))),
        "培训服务：具有线上和线下培训能力，有完善的培训服务评价机制；"
        "年培训500人（次）以上，其中线下培训200人（次）以上（第五条第（三）项）",
        "Training: online and offline capability with an evaluation mechanism; at least 500 person-times a"
        " year, of which at least 200 offline (Art. 5 (3))",
        function="training",
    ),
    Condition(
        "A5-4",
        5,
        4,
        All((Yes("quality_certified"), A("technical_offline", 50))),
        "技术服务：满足GB/T 19001或ISO9001标准要求并获得质量管理体系认证证书，或取得相应的质量管理体系标准认证；"
        "线下年服务企业数量50家以上（第五条第（四）项）",
        "Technical services: an ISO 9001 / GB/T 19001 or equivalent quality certification; at least 50"
        " enterprises a year offline (Art. 5 (4))",
        function="technical",
    ),
    Condition(
        "A6-B1",
        6,
        1,
        All((Yes("legal_person"), RegisteredYears(3))),
        "具有独立法人资格，在本市行政区域内登记（注册）3年以上（第六条第（一）项）",
        "An independent legal person registered in Chengdu 3 years or more (Art. 6 (1))",
    ),
    Condition(
        "A6-B2",
        6,
        2,
        All((Yes("clean_record"), NoBan())),
        "运营单位和主要负责人在运营管理中无违法违纪行为、无不良信用记录；"
        "申报之日不在第二十二条规定的3年内不得再次申报期间（第六条第（二）项）",
        "The operator and its principal have no violation or bad credit record, and no Art. 22 ban is running"
        " on the application date (Art. 6 (2))",
    ),
    Condition(
        "A6-B3",
        6,
        3,
        All((A("small_micro_last_year", 30, "家"), A("small_micro_now", 30, "家"))),
        "基地上年末和目前入驻的小微企业30家以上（第六条第（三）项）",
        "At least 30 small and micro enterprises resident at the end of last year and now (Art. 6 (3))",
    ),
    Condition(
        "A6-B4",
        6,
        4,
        All((A("full_time_staff", 5, "人"), A("mentors", 2, "人"), A("partner_institutions", 3, "家"))),
        "专职从事创业创新服务的人员不少于5人，其中创业辅导师不少于2人，"
        "引入或战略合作的外部专业服务机构不少于3家（第六条第（四）项）",
        "At least 5 full-time staff, of whom at least 2 startup mentors, and at least 3 partner service"
        " institutions (Art. 6 (4))",
    ),
    Condition(
        "A6-B5",
        6,
        5,
        A("public_interest_share", 20, "%"),
        "为小微企业提供的公益性服务或低收费服务不少于总服务量的20%（第六条第（五）项）",
        "Public-interest or low-fee services make up at least 20 % of all services (Art. 6 (5))",
    ),
    Condition(
        "A6-O1",
        6,
        1,
        All((FloorArea(), Leased())),
        "制造业园区建筑总面积在6万平方米以上，楼宇经济园建筑总面积在8千平方米以上，"
        "且运营单位建筑产权占基地总产权的70%以上（租赁基地除外）（第六条第二款第（一）项）",
        "A building area of at least 60,000 m² (manufacturing park) or 8,000 m² (office-building park), of"
        " which the operator owns at least 70 % unless the base is leased (Art. 6, operating (1))",
        operating=True,
    ),
    Condition(
        "A6-O2",
        6,
        2,
        Yes("governance"),
        "基地运营主体治理结构完善，具有明确的发展规划、年度发展目标和实施方案（第六条第二款第（二）项）",
        "Sound governance, a development plan, annual targets and an implementation plan (Art. 6, operating (2))",
        operating=True,
    ),
    Condition(
        "A6-O3",
        6,
        3,
        All((Yes("management_system"), Yes("service_ledger"))),
        "具有健全的管理制度、完备的服务流程、收费标准和服务质量监督保证措施，"
        "具备清楚、明晰的服务台账（第六条第二款第（三）项）",
        "A management system, service process, fee standard and quality measures, and a clear service"
        " ledger (Art. 6, operating (3))",
        operating=True,
    ),
    Condition(
        "A7-1",
        7,
        1,
        All((Yes("info_system"), A("info_offline", 30, "家次"), A("info_activities", 3, "次"))),
        "信息服务：具有开放的信息服务系统，线下年服务企业30家次以上，年组织开展的线下服务活动3次以上（第七条第（一）项）",
        "Information: an online information system; at least 30 enterprise-times and 3 activities a year"
        " offline (Art. 7 (1))",
        function="information",
    ),
    Condition(
        "A7-2",
        7,
        2,
        A("coaching", 20, "家次"),
        "创业辅导：年服务企业20家次以上（第七条第（二）项）",
        "Startup coaching: at least 20 enterprise-times a year (Art. 7 (2))",
        function="coaching",
    ),
    Condition(
        "A7-3",
        7,
        3,
        A("tech_meetings", 3, "次"),
        "创新支持：年组织技术洽谈会和技术对接会3次以上（第七条第（三）项）",
        "Innovation support: at least 3 technology matchmaking meetings a year (Art. 7 (3))",
        function="innovation",
    ),
    Condition(
        "A7-4",
        7,
        4,
        A("training_total", 150, "人次"),
        "人员培训：年培训150人次以上（第七条第（四）项）",
        "Training: at least 150 person-times a year (Art. 7 (4))",
        function="training",
    ),
    Condition(
        "A7-5",
        7,
        5,
        All((A("expos", 1, "次"), A("leader_matchmaking", 1, "次"))),
        "市场营销：组织企业参加展览展销、贸易洽谈等活动每年1次以上；组织入驻企业与行业龙头企业对接活动每年1次以上"
        "（第七条第（五）项）",
        "Marketing: at least 1 exhibition or trade activity and at least 1 matchmaking with leading"
        " enterprises a year (Art. 7 (5))",
        function="marketing",
    ),
    Condition(
        "A7-6",
        7,
        6,
        All((A("financing", 15, "家次"), A("financing_meetings", 2, "次"))),
        "投融资服务：年服务企业15家次以上，组织融资对接会2次以上（第七条第（六）项）",
        "Investment and financing: at least 15 enterprise-times and 2 financing meetings a year (Art. 7 (6))",
        function="financing",
    ),
    Condition(
        "A7-7",
        7,
        7,
        A("consulting", 10, "家次"),
        "管理咨询：年服务企业10家次以上（第七条第（七）项）",
        "Management consulting: at least 10 enterprise-times a year (Art. 7 (7))",
        function="consulting",
    ),
    Condition(
        "A7-8",
        7,
        8,
        A("professional", 10, "家次"),
        "专业服务：年服务企业10家次以上（第七条第（八）项）",
        "Professional services: at least 10 enterprise-times a year (Art. 7 (8))",
        function="professional",
    ),
)

BY_ID: dict[str, Condition] = {c.id: c for c in CONDITIONS}

AGGREGATE_TEXT = {
    Kind.PLATFORM: (
        "应满足至少一项服务功能要求（第五条）",
        "At least one claimed service function must be met (Art. 5)",
    ),
    Kind.BASE: (
        "应同时具备不少于4种服务功能并达到相应的服务能力（第七条）",
        "At least four claimed service functions must be met (Art. 7)",
    ),
}


def basic_conditions(kind: Kind) -> tuple[Condition, ...]:
    """All of Art. 4 (a platform) or Art. 6 (a base): every one must be met."""
    article = 4 if kind is Kind.PLATFORM else 6
    return tuple(c for c in CONDITIONS if c.article == article)


def function_condition(kind: Kind, function: str) -> Condition:
    return BY_ID[FUNCTIONS[kind][function]]


# Service figures that are states (a system exists), not counts: the latest month's value stands for the year.
STATE_FIELDS = frozenset({"policy_system", "training_capability", "quality_certified", "info_system"})


def figure_fields() -> tuple[str, ...]:
    """The fields the function conditions read: the figures a monthly filing may carry (SPEC 9)."""
    return tuple(dict.fromkeys(f for c in CONDITIONS if c.function for f in c.fields))
