"""The fields of an application (SPEC section 9): name, Chinese header, type, and the conditions each serves.

One table, read by the importer, the template and the evaluator's texts.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Type(enum.StrEnum):
    CODE = "code"
    YEAR = "year"
    KIND = "kind"
    TEXT = "text"
    DISTRICT = "district"
    DATE = "date"
    FUNCTIONS = "functions"
    YES = "yes"  # yes/no, 是/否
    COUNT = "count"  # a whole number >= 0
    NUMBER = "number"  # a number >= 0 (万元, m²)
    PERCENT = "percent"  # 0-100
    PARK = "park"  # manufacturing / office


@dataclass(frozen=True, slots=True)
class AppField:
    name: str
    zh: str
    type: Type
    serves: str  # the conditions it serves, as the template shows them
    aliases: tuple[str, ...] = ()
    required: bool = False


F, T = AppField, Type
APPLICATION_FIELDS: tuple[AppField, ...] = (
    F("credit_code", "统一社会信用代码", T.CODE, "主体", ("社会信用代码", "信用代码"), required=True),
    F("year", "申报年度", T.YEAR, "主体", ("年度",), required=True),
    F("kind", "类型", T.KIND, "主体", ("申报类型",), required=True),
    F("name", "名称", T.TEXT, "主体", ("单位名称", "平台名称", "基地名称")),
    F("district", "所属区县", T.DISTRICT, "主体", ("区县",)),
    F("applied_on", "申报日期", T.DATE, "A4-1 A6-B1 A4-7 A6-B2", ("申报时间",), required=True),
    F("functions", "服务功能", T.FUNCTIONS, "A4-1 A5 A7", ("申报服务功能",)),
    F("registered_on", "注册登记日期", T.DATE, "A4-1 A6-B1", ("注册日期", "登记日期")),
    F("legal_person", "独立法人", T.YES, "A4-1 A6-B1"),
    F("clean_record", "无违法违规失信记录", T.YES, "A4-7 A6-B2"),
    F("registered_capital", "注册资金（万元）", T.NUMBER, "A4-1", ("注册资金",)),
    F("fixed_premises", "固定场所和设施", T.YES, "A4-2"),
    F("sound_finances", "财务状况良好", T.YES, "A4-2"),
    F("partner_institutions", "合作服务机构数", T.COUNT, "A4-3 A6-B4"),
    F("external_experts", "外部专家数", T.COUNT, "A4-3"),
    F("full_time_staff", "专职服务人员数", T.COUNT, "A4-4 A6-B4"),
    F("qualified_staff", "大专以上或中级以上职称人数", T.COUNT, "A4-4"),
    F("management_system", "管理制度健全", T.YES, "A4-5 A6-O3"),
    F("served_3y_ago", "前第三年服务企业数", T.COUNT, "A4-6"),
    F("served_2y_ago", "前第二年服务企业数", T.COUNT, "A4-6"),
    F("served_last_year", "上一年服务企业数", T.COUNT, "A4-6"),
    F("satisfaction", "客户满意度（%）", T.PERCENT, "A4-6", ("客户满意度",)),
    F("joins_activities", "参加主管部门活动", T.YES, "A4-6"),
    F("policy_system", "在线政策服务系统", T.YES, "A5-1"),
    F("policy_online", "线上政策服务企业数", T.COUNT, "A5-1"),
    F("policy_offline", "线下政策服务企业数", T.COUNT, "A5-1"),
    F("consulting_offline", "线下咨询服务企业数", T.COUNT, "A5-2"),
    F("matchmaking_activities", "15家以上企业参加的对接活动次数", T.COUNT, "A5-2"),
    F("training_capability", "线上线下培训能力及评价机制", T.YES, "A5-3"),
    F("training_total", "培训人次", T.COUNT, "A5-3 A7-4"),
    F("training_offline", "线下培训人次", T.COUNT, "A5-3"),
    F("quality_certified", "质量管理体系认证", T.YES, "A5-4"),
    F("technical_offline", "线下技术服务企业数", T.COUNT, "A5-4"),
    F("small_micro_last_year", "上年末入驻小微企业数", T.COUNT, "A6-B3"),
    F("small_micro_now", "目前入驻小微企业数", T.COUNT, "A6-B3"),
    F("mentors", "创业辅导师人数", T.COUNT, "A6-B4"),
    F("public_interest_share", "公益性或低收费服务占比（%）", T.PERCENT, "A6-B5", ("公益性或低收费服务占比",)),
    F("park_type", "园区类型", T.PARK, "A6-O1"),
    F("floor_area", "建筑总面积（平方米）", T.NUMBER, "A6-O1", ("建筑总面积",)),
    F("owned_share", "运营单位产权占比（%）", T.PERCENT, "A6-O1", ("运营单位产权占比",)),
    F("leased", "租赁基地", T.YES, "A6-O1"),
    F("governance", "治理结构与发展规划", T.YES, "A6-O2"),
    F("service_ledger", "服务台账", T.YES, "A6-O3"),
    F("info_system", "在线信息服务系统", T.YES, "A7-1"),
    F("info_offline", "线下信息服务企业家次", T.COUNT, "A7-1"),
    F("info_activities", "线下信息服务活动次数", T.COUNT, "A7-1"),
    F("coaching", "创业辅导企业家次", T.COUNT, "A7-2"),
    F("tech_meetings", "技术洽谈对接会次数", T.COUNT, "A7-3"),
    F("expos", "展览展销等活动次数", T.COUNT, "A7-5"),
    F("leader_matchmaking", "与龙头企业对接活动次数", T.COUNT, "A7-5"),
    F("financing", "投融资服务企业家次", T.COUNT, "A7-6"),
    F("financing_meetings", "融资对接会次数", T.COUNT, "A7-6"),
    F("consulting", "管理咨询企业家次", T.COUNT, "A7-7"),
    F("professional", "专业服务企业家次", T.COUNT, "A7-8"),
)
BY_NAME: dict[str, AppField] = {f.name: f for f in APPLICATION_FIELDS}
# Fields that are keys and routing, not facts the conditions read.
KEY_FIELDS = ("credit_code", "year", "kind", "name", "district")

# Art. 26: what a figure of enterprises served counts, shown beside every service figure in the template.
ART26_ZH = (
    "按《办法》第二十六条计数：包括响应企业需求提供的针对性服务、参加中小企业主管部门组织的服务活动、"
    "接受政府委托（采购）服务的企业数量，不包括网站点击量或浏览量、申报单位主动推送短信或电话等服务数量。"
)
ART7_THIRD_PARTY_ZH = "基地的服务能力和次数含基地引入的第三方专业机构的服务（第七条）。"


def label(name: str, locale: str) -> str:
    f = BY_NAME.get(name)
    if f is None or locale != "zh_CN":
        return name
    return f.zh
