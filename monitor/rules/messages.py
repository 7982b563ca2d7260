"""The text of each finding, in zh_CN (the default) and en. Every text names the deadline and the article."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import TYPE_CHECKING, Any

from monitor.domain import Kind, RuleId

if TYPE_CHECKING:
    from monitor.rules.finding import Finding

_NUMERALS = "零一二三四五六七八九"


def article_zh(n: int) -> str:
    """17 -> 第十七条 (articles of the Measures run from 1 to 28)."""
    tens, ones = divmod(n, 10)
    text = ("" if tens <= 1 else _NUMERALS[tens]) + ("十" if tens else "") + (_NUMERALS[ones] if ones else "")
    return f"第{text or '零'}条"


def cite(n: int, locale: str) -> str:
    return f"根据《办法》{article_zh(n)}" if locale == "zh_CN" else f"Under Art. {n} of the Measures"


def fmt_date(value: Any, locale: str) -> str:
    if not isinstance(value, date):
        return str(value)
    return f"{value.year}年{value.month}月{value.day}日" if locale == "zh_CN" else value.isoformat()


def fmt_period(text: str | None, locale: str) -> str:
    if not text:
        return ""
    year, month = text.split("-")
    return f"{year}年{int(month)}月" if locale == "zh_CN" else text


def title_name(kind: str, locale: str) -> str:
    if locale == "zh_CN":
        return "成都市中小企业公共服务平台" if kind == Kind.PLATFORM else "成都市小企业创业基地"
    return "Chengdu SME Public Service Platform" if kind == Kind.PLATFORM else "Chengdu Small Business Startup Base"


_CHANGE = {
    "zh_CN": {"rename": "更名", "merger": "合并重组", "split": "分立", "other": "重大调整"},
    "en": {"rename": "a change of name", "merger": "a merger", "split": "a split", "other": "a major change"},
}
_MISCONDUCT = {
    "zh_CN": {"refused_cooperation": "拒不配合评审、检查、测评工作", "fraud": "弄虚作假", "violation": "违法违规"},
    "en": {"refused_cooperation": "refusing to cooperate", "fraud": "fraud", "violation": "a violation of law"},
}


def _left(days: int | None, locale: str) -> str:
    if days is None:
        return ""
    if locale == "zh_CN":
        return "今日截止" if days == 0 else (f"还剩{days}天" if days > 0 else f"已逾期{-days}天")
    return "due today" if days == 0 else (f"{days} days left" if days > 0 else f"{-days} days overdue")


Params = Mapping[str, Any]
Template = Callable[["Finding", Params, Callable[[Any], str]], str]

ZH: dict[RuleId, Template] = {
    RuleId.FILING_DUE_SOON: lambda f, p, d: (
        f"{p['name']}{fmt_period(p['period'], 'zh_CN')}服务工作情况尚未填报，填报截止日期为{d(f.due)}"
        f"（{_left(f.days_left, 'zh_CN')}）。{cite(20, 'zh_CN')}，请按时登录成都市银企校院对接服务平台网站"
        f"（www.cdsme.com）填报。"
    ),
    RuleId.FILING_MISSED: lambda f, p, d: (
        ("【最后提醒】" if p.get("final") else "")
        + (
            f"{p['name']}{fmt_period(p['first_month'], 'zh_CN')}服务工作情况未按规定填报"
            if p["streak"] == 1
            else f"{p['name']}自{fmt_period(p['first_month'], 'zh_CN')}起已连续{p['streak']}个月未按规定填报服务工作情况"
        )
        + f"（截止日期为{d(f.due)}）。{cite(20, 'zh_CN')}，连续{p['limit']}次未按规定填报的，将撤销称号。"
        f"请务必于{d(p['next_due'])}前填报{fmt_period(p['next_period'], 'zh_CN')}服务工作情况。"
    ),
    RuleId.FILING_REVOCATION_DUE: lambda f, p, d: (
        f"{p['name']}自{fmt_period(p['first_month'], 'zh_CN')}起已连续{p['streak']}个月未按规定填报服务工作情况"
        f"（第{p['limit']}期截止日期为{d(f.due)}）。{cite(20, 'zh_CN')}，应撤销其“{title_name(p['kind'], 'zh_CN')}”"
        f"称号，请核实后作出撤销决定。"
    ),
    RuleId.RENEWAL_YEAR: lambda f, p, d: (
        f"{p['name']}的“{title_name(p['kind'], 'zh_CN')}”称号有效期至{d(p['expires'])}届满。{cite(17, 'zh_CN')}，"
        f"有效期满当年可再次申报，请关注本年度申报通知，按时向所在区（市）县工业和信息化主管部门申报。"
    ),
    RuleId.CERT_EXPIRING: lambda f, p, d: (
        f"{p['name']}的“{title_name(p['kind'], 'zh_CN')}”称号将于{d(p['expires'])}有效期满"
        f"（{_left(f.days_left, 'zh_CN')}），目前尚未再次申报。{cite(17, 'zh_CN')}，认定有效期为三年，"
        f"有效期满当年可再次申报，请及时申报。"
    ),
    RuleId.CERT_EXPIRED: lambda f, p, d: (
        f"{p['name']}的“{title_name(p['kind'], 'zh_CN')}”称号已于{d(p['expires'])}有效期满，尚未重新认定。"
        f"{cite(17, 'zh_CN')}，认定有效期为三年，期满后不得继续使用该称号；如需保留，请再次申报。"
    ),
    RuleId.RESTRUCTURING_SUSPENDED: lambda f, p, d: (
        f"{p['name']}于{d(p['changed_on'])}发生{_CHANGE['zh_CN'].get(p['change'], '重大调整')}。{cite(18, 'zh_CN')}，"
        f"自调整之日起暂停其“{title_name(p['kind'], 'zh_CN')}”称号，经审核、年度评审合格后方可在原有效期内继续使用；"
        f"法人主体应于{d(p['report_due'])}前向{p['district']}工业和信息化主管部门报告。"
    ),
    RuleId.RESTRUCTURING_REPORT_DUE: lambda f, p, d: (
        f"{p['name']}于{d(p['changed_on'])}发生{_CHANGE['zh_CN'].get(p['change'], '重大调整')}，尚未报告。"
        f"{cite(18, 'zh_CN')}，应于{d(f.due)}前（{_left(f.days_left, 'zh_CN')}）向{p['district']}"
        f"工业和信息化主管部门报告调整情况。"
    ),
    RuleId.RESTRUCTURING_REPORT_OVERDUE: lambda f, p, d: (
        f"{p['name']}于{d(p['changed_on'])}发生{_CHANGE['zh_CN'].get(p['change'], '重大调整')}，"
        f"报告期限已于{d(f.due)}届满（{_left(f.days_left, 'zh_CN')}），至今未向{p['district']}"
        f"工业和信息化主管部门报告。{cite(18, 'zh_CN')}，称号继续暂停，请督促其报告并按规定组织审核。"
    ),
    RuleId.RESTRUCTURING_REVIEW_PENDING: lambda f, p, d: (
        f"{p['name']}已于{d(p['reported_on'])}报告{d(p['changed_on'])}发生的"
        f"{_CHANGE['zh_CN'].get(p['change'], '重大调整')}情况，待年度评审审核。{cite(18, 'zh_CN')}，"
        f"市经信局将上述调整事项纳入年度评审工作。"
    ),
    RuleId.RECTIFICATION_DUE: lambda f, p, d: (
        f"{p['name']}于{d(p['evaluated_on'])}测评不合格，“{title_name(p['kind'], 'zh_CN')}”称号已暂停。"
        f"{cite(21, 'zh_CN')}，应于{d(f.due)}前（{_left(f.days_left, 'zh_CN')}）完成整改，"
        f"请{p['district']}工业和信息化主管部门指导整改；未按规定完成整改的，将撤销称号。"
    ),
    RuleId.RECTIFICATION_OVERDUE: lambda f, p, d: (
        f"{p['name']}于{d(p['evaluated_on'])}测评不合格，整改期限已于{d(f.due)}届满，未完成整改并通过验收。"
        f"{cite(21, 'zh_CN')}，应撤销其“{title_name(p['kind'], 'zh_CN')}”称号，请核实后作出撤销决定。"
    ),
    RuleId.MISCONDUCT_REVOKED: lambda f, p, d: (
        f"{p['name']}因{_MISCONDUCT['zh_CN'].get(p['misconduct'], '违法违规')}，{cite(22, 'zh_CN')}，"
        f"自{d(p['revoked_on'])}起撤销其“{title_name(p['kind'], 'zh_CN')}”称号，"
        f"且3年内（{d(p['ban_until'])}前）不得再次申报。"
    ),
    RuleId.APPLICATION_DURING_BAN: lambda f, p, d: (
        f"{p['name']}于{d(p['applied_on'])}提出申报，但其称号已于{d(p['ban_from'])}被撤销，"
        f"{cite(22, 'zh_CN')}，{d(p['ban_until'])}前不得再次申报，请不予受理。"
    ),
    RuleId.LEGACY_REAPPLY_REQUIRED: lambda f, p, d: (
        f"{p['name']}的称号系依据2018年《成都市中小企业公共服务平台及小企业创业基地认定管理办法》认定。"
        f"{cite(27, 'zh_CN')}，原办法已到期废止，已认定的市级平台、基地应按新办法重新申报。"
    ),
    RuleId.DISTRICT_REPORT_DUE: lambda f, p, d: (
        f"{cite(21, 'zh_CN')}，{p['district']}工业和信息化主管部门应于{d(f.due)}前"
        f"（{_left(f.days_left, 'zh_CN')}）将{p['year']}年度平台、基地工作总结和检查情况报告报市经信局，目前尚未收到。"
    ),
    RuleId.DISTRICT_REPORT_OVERDUE: lambda f, p, d: (
        f"{p['district']}工业和信息化主管部门{p['year']}年度平台、基地工作总结和检查情况报告应于{d(f.due)}前报送，"
        f"至今未收到（{_left(f.days_left, 'zh_CN')}）。{cite(21, 'zh_CN')}，请尽快报送市经信局。"
    ),
    RuleId.REGULATION_EXPIRING: lambda f, p, d: (
        f"《办法》自{d(p['issued'])}起施行，有效期5年，至{d(p['last'])}届满"
        f"（{_left(f.days_left, 'zh_CN')}）。{cite(27, 'zh_CN')}，请及时组织评估修订。"
    ),
    RuleId.PUBLICITY_ENDED: lambda f, p, d: (
        f"{p['name']}已于{d(p['publicized_on'])}列入认定名单公示，公示期已于{d(p['ended_on'])}届满，尚未授予称号。"
        f"{cite(10, 'zh_CN')}，对公示无异议的，请及时授予称号并公布。"
    ),
    RuleId.APPLICATION_INELIGIBLE: lambda f, p, d: (
        f"{p['name']}{p['year']}年度申报（{d(p['applied_on'])}）不符合认定条件："
        f"{'、'.join(f'{w}（{i}）' for i, w in zip(p['unmet'], p['unmet_where'], strict=True)) or '服务功能数量不足'}"
        f"未达到要求。{cite(f.article, 'zh_CN')}，申报{'平台' if p['app_kind'] == 'platform' else '基地'}应同时具备"
        f"上述条件，请区（市）县主管部门初审时核实，可不予推荐。"
    ),
    RuleId.DISTRICT_REVIEW_PENDING: lambda f, p, d: (
        f"{p['name']}已于{d(p['applied_on'])}提出{p['year']}年度申报，至{d(f.due)}（申报后{p['days']}日）"
        f"区（市）县主管部门尚未完成初审。{cite(9, 'zh_CN')}，请对申报主体资格、申报材料的真实性和完整性进行初审，"
        f"符合申报条件的推荐至市经信局。"
    ),
    RuleId.SERVICE_BELOW_THRESHOLD: lambda f, p, d: _service_zh(f, p),
}

EN: dict[RuleId, Template] = {
    RuleId.FILING_DUE_SOON: lambda f, p, d: (
        f"{p['name']} has not yet filed its service report for {p['period']}; the deadline is {d(f.due)}"
        f" ({_left(f.days_left, 'en')}). {cite(20, 'en')}, please file on www.cdsme.com in time."
    ),
    RuleId.FILING_MISSED: lambda f, p, d: (
        ("[Final warning] " if p.get("final") else "")
        + f"{p['name']} has not filed as required for {p['streak']} consecutive month(s) since {p['first_month']}"
        f" (latest deadline {d(f.due)}). {cite(20, 'en')}, {p['limit']} consecutive misses revoke the title."
        f" File the report for {p['next_period']} by {d(p['next_due'])}."
    ),
    RuleId.FILING_REVOCATION_DUE: lambda f, p, d: (
        f"{p['name']} has not filed as required for {p['streak']} consecutive months since {p['first_month']}"
        f" (the {p['limit']}th deadline was {d(f.due)}). {cite(20, 'en')}, its title"
        f" '{title_name(p['kind'], 'en')}' is to be revoked: a decision is due."
    ),
    RuleId.RENEWAL_YEAR: lambda f, p, d: (
        f"The title '{title_name(p['kind'], 'en')}' of {p['name']} expires on {d(p['expires'])}."
        f" {cite(17, 'en')}, it may apply again this year; watch for this year's call for applications."
    ),
    RuleId.CERT_EXPIRING: lambda f, p, d: (
        f"The title '{title_name(p['kind'], 'en')}' of {p['name']} expires on {d(p['expires'])}"
        f" ({_left(f.days_left, 'en')}) and no application has been made. {cite(17, 'en')}, titles are valid"
        f" for three years and may be applied for again in the year they expire."
    ),
    RuleId.CERT_EXPIRED: lambda f, p, d: (
        f"The title '{title_name(p['kind'], 'en')}' of {p['name']} expired on {d(p['expires'])} and has not been"
        f" renewed. {cite(17, 'en')}, it may no longer be used."
    ),
    RuleId.RESTRUCTURING_SUSPENDED: lambda f, p, d: (
        f"{p['name']} underwent {_CHANGE['en'].get(p['change'], 'a major change')} on {d(p['changed_on'])}."
        f" {cite(18, 'en')}, its title is suspended from that day until a review passes; it must report to the"
        f" {p['district']} authority by {d(p['report_due'])}."
    ),
    RuleId.RESTRUCTURING_REPORT_DUE: lambda f, p, d: (
        f"{p['name']} underwent {_CHANGE['en'].get(p['change'], 'a major change')} on {d(p['changed_on'])} and has"
        f" not reported it. {cite(18, 'en')}, it must report to the {p['district']} authority by {d(f.due)}"
        f" ({_left(f.days_left, 'en')})."
    ),
    RuleId.RESTRUCTURING_REPORT_OVERDUE: lambda f, p, d: (
        f"{p['name']} underwent {_CHANGE['en'].get(p['change'], 'a major change')} on {d(p['changed_on'])}; the"
        f" report was due by {d(f.due)} ({_left(f.days_left, 'en')}) and has not been made. {cite(18, 'en')},"
        f" the title stays suspended."
    ),
    RuleId.RESTRUCTURING_REVIEW_PENDING: lambda f, p, d: (
        f"{p['name']} reported on {d(p['reported_on'])} the change of {d(p['changed_on'])}; it awaits the annual"
        f" review ({cite(18, 'en')})."
    ),
    RuleId.RECTIFICATION_DUE: lambda f, p, d: (
        f"{p['name']} failed its evaluation on {d(p['evaluated_on'])}; its title is suspended."
        f" {cite(21, 'en')}, it must complete rectification by {d(f.due)} ({_left(f.days_left, 'en')})"
        f" or lose the title."
    ),
    RuleId.RECTIFICATION_OVERDUE: lambda f, p, d: (
        f"{p['name']} failed its evaluation on {d(p['evaluated_on'])} and the rectification deadline {d(f.due)}"
        f" has passed without an accepted rectification. {cite(21, 'en')}, its title is to be revoked."
    ),
    RuleId.MISCONDUCT_REVOKED: lambda f, p, d: (
        f"{p['name']}: {_MISCONDUCT['en'].get(p['misconduct'], 'misconduct')}. {cite(22, 'en')}, its title is"
        f" revoked from {d(p['revoked_on'])} and it may not apply again until {d(p['ban_until'])}."
    ),
    RuleId.APPLICATION_DURING_BAN: lambda f, p, d: (
        f"{p['name']} applied on {d(p['applied_on'])}, but {cite(22, 'en').lower()} it may not apply again until"
        f" {d(p['ban_until'])}: the application should not be accepted."
    ),
    RuleId.LEGACY_REAPPLY_REQUIRED: lambda f, p, d: (
        f"The title of {p['name']} was granted under the 2018 measures. {cite(27, 'en')}, those measures are"
        f" repealed and titles granted under them must re-apply under the current Measures."
    ),
    RuleId.DISTRICT_REPORT_DUE: lambda f, p, d: (
        f"{cite(21, 'en')}, the {p['district']} authority must send its {p['year']} report on platforms and bases"
        f" by {d(f.due)} ({_left(f.days_left, 'en')}); it has not been received."
    ),
    RuleId.DISTRICT_REPORT_OVERDUE: lambda f, p, d: (
        f"The {p['district']} authority's {p['year']} report was due by {d(f.due)} and has not been received"
        f" ({_left(f.days_left, 'en')}; {cite(21, 'en')})."
    ),
    RuleId.REGULATION_EXPIRING: lambda f, p, d: (
        f"The Measures took effect on {d(p['issued'])} for five years and expire after {d(p['last'])}"
        f" ({_left(f.days_left, 'en')}; {cite(27, 'en')})."
    ),
    RuleId.PUBLICITY_ENDED: lambda f, p, d: (
        f"{p['name']} was publicized on {d(p['publicized_on'])}; the week ended on {d(p['ended_on'])} and no"
        f" title has been granted yet ({cite(10, 'en')})."
    ),
    RuleId.APPLICATION_INELIGIBLE: lambda f, p, d: (
        f"The {p['year']} application of {p['name']} ({d(p['applied_on'])}) does not meet"
        f" {', '.join(p['unmet']) or 'the number of functions'} ({cite(f.article, 'en')}); the district may"
        f" decline to recommend it."
    ),
    RuleId.DISTRICT_REVIEW_PENDING: lambda f, p, d: (
        f"{p['name']} applied on {d(p['applied_on'])} for {p['year']}; {p['days']} days later, by {d(f.due)}, the"
        f" district has not reviewed the application ({cite(9, 'en')})."
    ),
    RuleId.SERVICE_BELOW_THRESHOLD: lambda f, p, d: _service_en(f, p),
}

CATALOGS = {"zh_CN": ZH, "en": EN}


def _figures(p: Mapping[str, Any], locale: str) -> str:
    from monitor.applications.fields import label

    parts = []
    for field, total in p.get("so_far", {}).items():
        proj = p["projected"][field]
        if locale == "zh_CN":
            parts.append(f"{label(field, locale)}累计{_n(total)}，按全年折算{_n(proj)}")
        else:
            parts.append(f"{field} {_n(total)} so far, {_n(proj)} projected to the year")
    return ("；" if locale == "zh_CN" else "; ").join(parts)


def _n(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:.1f}"


def _service_zh(f: Finding, p: Mapping[str, Any]) -> str:
    from monitor.applications.conditions import FUNCTION_ZH

    kind = Kind(p["kind"])
    first, last = p["period"].split("..")
    months = f"{fmt_period(first, 'zh_CN')}至{fmt_period(last, 'zh_CN')}（{p['months']}个月）"
    if not p["function"]:
        names = "、".join(FUNCTION_ZH[kind][n] for n in p["on_track_names"]) or "无"
        return (
            f"{p['name']}{months}的服务数据按全年折算，仅{p['on_track']}种服务功能达到要求（{names}），"
            f"不足《办法》第七条规定的{p['needed']}种。{cite(17, 'zh_CN')}，有效期满当年再次申报时须重新满足认定条件，"
            f"请关注并提升服务能力。"
        )
    return (
        f"{p['name']}{months}{FUNCTION_ZH[kind][p['function']]}：{_figures(p, 'zh_CN')}，"
        f"低于《办法》{p['where']}的要求（{p['need_zh']}）。{cite(17, 'zh_CN')}，有效期满当年再次申报时须重新满足"
        f"认定条件，请关注并提升服务能力。"
    )


def _service_en(f: Finding, p: Mapping[str, Any]) -> str:
    if not p["function"]:
        return (
            f"{p['name']}: projected to the year from {p['period']}, only {p['on_track']} service functions are on"
            f" track; Art. 7 requires {p['needed']}. {cite(17, 'en')}, the conditions must be met again at renewal."
        )
    return (
        f"{p['name']}, {p['function']} ({p['condition']}), {p['period']}: {_figures(p, 'en')}; below the"
        f" threshold ({p['need_en']}). {cite(17, 'en')}, the conditions must be met again at renewal."
    )


def render(finding: Finding, locale: str = "zh_CN") -> str:
    templates = CATALOGS.get(locale, ZH)
    loc = locale if locale in CATALOGS else "zh_CN"
    return templates[finding.rule](finding, finding.params, lambda v: fmt_date(v, loc))
