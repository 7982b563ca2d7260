"""The words around a finding in a message: rule titles, what an entity should do, labels, dates, articles.

The finding's own sentence comes from `finding.message(locale)` (monitor/rules/messages.py); this module
words the frame a message puts around it, in zh_CN (the default) and en.
"""

from __future__ import annotations

import re
from datetime import date

from monitor.domain import RuleId, Severity, StageName, Status

ZH, EN = "zh_CN", "en"
MEASURES_ZH = "《成都市中小企业公共服务平台和小企业创业基地认定管理办法》"

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals as articles are cited: 20 -> 二十, 21 -> 二十一, 10 -> 十."""
    if not 0 < n < 100:
        return str(n)
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else _DIGITS[tens] + "十")
    return head + (_DIGITS[ones] if ones else "")


def article_ref(article: int, locale: str) -> str:
    if locale == EN:
        return f"Art. {article} of the Measures"
    return f"《办法》第{chinese_number(article)}条"


def format_date(day: date | None, locale: str) -> str:
    if day is None:
        return "—"
    if locale == EN:
        return day.isoformat()
    return f"{day.year}年{day.month}月{day.day}日"


def days_left_text(days_left: int | None, locale: str) -> str:
    if days_left is None:
        return ""
    if locale == EN:
        if days_left > 0:
            return f"{days_left} day{'s' if days_left != 1 else ''} left"
        return "due today" if days_left == 0 else f"{-days_left} day{'s' if days_left != -1 else ''} overdue"
    if days_left > 0:
        return f"剩余{days_left}天"
    return "今日截止" if days_left == 0 else f"已逾期{-days_left}天"


_SEVERITY = {
    ZH: {Severity.INFO: "提示", Severity.NOTICE: "提醒", Severity.WARNING: "警告", Severity.CRITICAL: "严重"},
    EN: {Severity.INFO: "info", Severity.NOTICE: "notice", Severity.WARNING: "warning", Severity.CRITICAL: "critical"},
}


def severity_label(severity: Severity, locale: str) -> str:
    return _SEVERITY[_loc(locale)][severity]


_STATUS = {
    ZH: {
        Status.ACTIVE: "有效",
        Status.SUSPENDED: "暂停",
        Status.REVOKED: "撤销",
        Status.EXPIRED: "到期",
        Status.UNCERTIFIED: "未认定",
    },
    EN: {s: s.value for s in Status},
}


def status_label(status: Status, locale: str) -> str:
    return _STATUS[_loc(locale)][status]


_STAGE_WORDS: dict[str, dict[str, str]] = {
    ZH: {
        StageName.OVERDUE: "已逾期",
        StageName.START: "整改期开始",
        StageName.DUE: "应予处理",
        StageName.ENDED: "公示期满",
        StageName.YEAR: "届满当年",
        StageName.EXPIRED: "已届满",
        StageName.SUSPENDED: "已暂停",
        StageName.REPORTED: "已报告",
        StageName.FEB1: "2月1日提醒",
        StageName.REVOKED: "已撤销",
        StageName.APPLIED: "已申报",
        StageName.ACTIVE: "有效期内",
    },
    EN: {
        StageName.OVERDUE: "overdue",
        StageName.START: "rectification started",
        StageName.DUE: "decision due",
        StageName.ENDED: "publicity over",
        StageName.YEAR: "expiry year",
        StageName.EXPIRED: "expired",
        StageName.SUSPENDED: "suspended",
        StageName.REPORTED: "reported",
        StageName.FEB1: "February 1 reminder",
        StageName.REVOKED: "revoked",
        StageName.APPLIED: "applied",
        StageName.ACTIVE: "in force",
    },
}


def stage_label(stage: str, locale: str) -> str:
    """`30d` -> 截止前30日; known words are translated; anything else is shown as it is."""
    m = re.fullmatch(r"(\d+)d", stage)
    if m:
        n = int(m.group(1))
        return f"{n} days before" if locale == EN else f"截止前{n}日"
    m = re.fullmatch(r"streak-(\d+)", stage)
    if m:
        n = int(m.group(1))
        return f"{n} in a row" if locale == EN else f"连续{n}次"
    return _STAGE_WORDS[_loc(locale)].get(stage, stage)


_TITLES: dict[RuleId, tuple[str, str]] = {
    RuleId.FILING_DUE_SOON: ("月度服务工作情况填报即将截止", "Monthly service report due soon"),
    RuleId.FILING_MISSED: ("未按规定填报月度服务工作情况", "Monthly service reports missed"),
    RuleId.FILING_REVOCATION_DUE: (
        "连续6次未按规定填报，应予撤销称号",
        "Six consecutive reports missed: revocation due",
    ),
    RuleId.RENEWAL_YEAR: ("认定有效期本年届满，可再次申报", "Title expires this year: re-application open"),
    RuleId.CERT_EXPIRING: ("认定有效期即将届满", "Title about to expire"),
    RuleId.CERT_EXPIRED: ("认定有效期已届满", "Title expired"),
    RuleId.RESTRUCTURING_SUSPENDED: ("法人主体重大调整，称号暂停", "Restructuring: title suspended"),
    RuleId.RESTRUCTURING_REPORT_DUE: ("重大调整情况报告即将截止", "Restructuring report due soon"),
    RuleId.RESTRUCTURING_REPORT_OVERDUE: ("重大调整情况逾期未报告", "Restructuring report overdue"),
    RuleId.RESTRUCTURING_REVIEW_PENDING: ("重大调整待年度评审", "Restructuring awaiting annual review"),
    RuleId.RECTIFICATION_DUE: ("测评不合格，称号暂停，须限期整改", "Failed evaluation: rectification due"),
    RuleId.RECTIFICATION_OVERDUE: ("逾期未完成整改，应予撤销称号", "Rectification overdue: revocation due"),
    RuleId.MISCONDUCT_REVOKED: ("违规行为，称号撤销，3年内不得申报", "Misconduct: title revoked, 3-year ban"),
    RuleId.APPLICATION_DURING_BAN: ("禁止申报期内提出申报", "Application during the ban"),
    RuleId.LEGACY_REAPPLY_REQUIRED: ("2018年认定的称号须按新办法重新申报", "2018 title: re-application required"),
    RuleId.DISTRICT_REPORT_DUE: ("年度工作总结和检查情况报告即将截止", "Annual district report due soon"),
    RuleId.DISTRICT_REPORT_OVERDUE: ("年度工作总结和检查情况报告逾期未报", "Annual district report overdue"),
    RuleId.REGULATION_EXPIRING: ("《办法》有效期即将届满", "The Measures are about to expire"),
    RuleId.PUBLICITY_ENDED: ("公示期满，待授予称号", "Publicity period over: title to be granted"),
    RuleId.APPLICATION_INELIGIBLE: ("申报不符合认定条件", "Application does not meet the conditions"),
    RuleId.DISTRICT_REVIEW_PENDING: ("申报逾期未完成区县初审", "Application awaiting the district's review"),
    RuleId.SERVICE_BELOW_THRESHOLD: ("服务数据低于认定条件，复审存在风险", "Service figures below the threshold"),
}


def rule_title(rule: RuleId, locale: str) -> str:
    zh, en = _TITLES[rule]
    return en if locale == EN else zh


_DISTRICT_AUTHORITY = {ZH: "所在区（市）县工业和信息化主管部门", EN: "your district's industry and IT authority"}


def district_authority(district: str, locale: str) -> str:
    return f"the industry and IT authority of {district}" if locale == EN else f"{district}工业和信息化主管部门"


def action_text(rule: RuleId, due: date | None, locale: str, portal_url: str) -> str:
    """What an entity is asked to do, and where; every entity reminder carries one."""
    when = format_date(due, locale)
    portal = portal_url
    if locale == EN:
        authority = _DISTRICT_AUTHORITY[EN]
        actions = {
            RuleId.FILING_DUE_SOON: f"Please log in to {portal} and file the month's service report by {when} (inclusive).",
            RuleId.FILING_MISSED: f"Please log in to {portal} at once, file the missing service reports and file every month on time; six consecutive missed reports revoke the title (Art. 20).",
            RuleId.RENEWAL_YEAR: f"To keep the title, apply again this year through {authority} as the year's application notice directs.",
            RuleId.CERT_EXPIRING: f"The title is valid through {when}. To keep it, apply again through {authority} as this year's application notice directs.",
            RuleId.CERT_EXPIRED: f"The title is no longer valid and may not be used. You may apply again through {authority}.",
            RuleId.RESTRUCTURING_SUSPENDED: f"The title is suspended from the date of the change. Report the change to {authority} within three months.",
            RuleId.RESTRUCTURING_REPORT_DUE: f"Report the change to {authority} by {when} (inclusive).",
            RuleId.RESTRUCTURING_REPORT_OVERDUE: f"The deadline ({when}) has passed. Report the change to {authority} at once.",
            RuleId.RECTIFICATION_DUE: f"The title is suspended. Complete the rectification, guided by {authority}, by {when} (inclusive).",
            RuleId.MISCONDUCT_REVOKED: "The title is revoked and you may not apply again for three years. Contact the service center if you object.",
            RuleId.LEGACY_REAPPLY_REQUIRED: f"Titles granted under the 2018 measures must be applied for again under the current Measures, through {authority}.",
        }
        return actions.get(rule, "Please see to this matter in good time.")
    authority = _DISTRICT_AUTHORITY[ZH]
    site = f"成都市银企校院对接服务平台网站（{portal}）"
    actions = {
        RuleId.FILING_DUE_SOON: f"请于{when}（含当日）前登录{site}填报服务工作情况。",
        RuleId.FILING_MISSED: f"请尽快登录{site}补报服务工作情况，此后按月按时填报。连续6次未按规定填报的，将撤销称号。",
        RuleId.RENEWAL_YEAR: f"如需继续保留称号，请按当年申报工作通知要求，向{authority}再次申报。",
        RuleId.CERT_EXPIRING: f"称号有效期至{when}。如需继续保留称号，请按当年申报工作通知要求，向{authority}再次申报。",
        RuleId.CERT_EXPIRED: f"称号已不在有效期内，请勿继续使用。如需再次申报，请与{authority}联系。",
        RuleId.RESTRUCTURING_SUSPENDED: f"自发生调整之日起，称号暂停使用。请自调整之日起三个月内向{authority}报告调整情况。",
        RuleId.RESTRUCTURING_REPORT_DUE: f"请于{when}（含当日）前向{authority}报告调整情况。",
        RuleId.RESTRUCTURING_REPORT_OVERDUE: f"报告期限（{when}）已过，请立即向{authority}报告调整情况。",
        RuleId.RECTIFICATION_DUE: f"称号暂停期间，请在{authority}指导下，于{when}（含当日）前完成整改。",
        RuleId.MISCONDUCT_REVOKED: "称号已撤销，3年内不得再次申报。如有异议，请与成都市中小企业服务中心联系。",
        RuleId.LEGACY_REAPPLY_REQUIRED: f"按照新办法规定，2018年认定的称号须重新申报，请向{authority}咨询申报事宜。",
    }
    return actions.get(rule, "请及时办理。")


def _loc(locale: str) -> str:
    return EN if locale == EN else ZH


# Sentences and labels the templates use through `tr(key, **values)`.
LABELS: dict[str, dict[str, str]] = {
    ZH: {
        "sender_org": "成都市中小企业服务中心",
        "footer": "本邮件由成都市中小企业服务中心合规监测系统自动发送，请勿直接回复。",
        "ref": "编号",
        "basis": "依据",
        "deadline": "截止日期",
        "todo": "办理事项",
        "details": "具体情况",
        "ignore_if_done": "如已办理，请忽略本提醒。如有疑问，请与{authority}或成都市中小企业服务中心联系。",
        "authority": "所在区（市）县工业和信息化主管部门",
        "registry_entry": "贵单位在认定名单中的公开信息",
        "reminder_title": "合规提醒",
        "alert_title": "合规预警",
        "notice_title": "合规通报",
        "digest_title": "每日合规简报",
        "staff_salutation": "市中小企业服务中心：",
        "alert_intro": "截至{date}，合规监测发现以下新增事项（共{count}项），请及时处理。",
        "alert_repeats": "以下严重事项仍未解决，每{days}日提醒一次（共{count}项）。已在处理的，可用 sme-monitor ack 编号 --by 姓名 --note 说明 确认，确认后至阶段变化前不再重复提醒。",
        "district_salutation": "{district}工业和信息化主管部门：",
        "district_intro": "截至{date}，合规监测发现贵辖区以下平台、基地事项（共{count}项），请按《办法》规定督促指导。",
        "district_own": "以下为贵部门自身事项：",
        "col_severity": "等级",
        "col_entity": "主体",
        "col_code": "统一社会信用代码",
        "col_district": "区县",
        "col_rule": "事项",
        "col_article": "依据",
        "col_stage": "阶段",
        "col_due": "截止日期",
        "col_left": "剩余期限",
        "col_message": "说明",
        "col_id": "编号",
        "col_first": "首次通知",
    },
    EN: {
        "sender_org": "Chengdu SME Service Center",
        "footer": "This message was sent automatically by the compliance monitor of the Chengdu SME Service Center; please do not reply to it.",
        "ref": "Reference",
        "basis": "Basis",
        "deadline": "Deadline",
        "todo": "What to do",
        "details": "Details",
        "ignore_if_done": "If you have already done so, please disregard this reminder. Questions: {authority} or the Chengdu SME Service Center.",
        "authority": "your district's industry and IT authority",
        "registry_entry": "Your entry in the public registry",
        "reminder_title": "Compliance reminder",
        "alert_title": "Compliance alert",
        "notice_title": "Compliance notice",
        "digest_title": "Daily compliance digest",
        "staff_salutation": "To the SME Service Center staff:",
        "alert_intro": "As of {date} the monitor found these new matters ({count}); please see to them.",
        "alert_repeats": "These critical matters are still unresolved and are repeated every {days} days ({count}). Acknowledge one you are handling with `sme-monitor ack ID --by NAME --note TEXT`; its repeats then stop until its stage changes.",
        "district_salutation": "To the industry and IT authority of {district}:",
        "district_intro": "As of {date} the monitor found these matters about platforms and bases in your district ({count}); please follow them up as the Measures require.",
        "district_own": "Matters for your own office:",
        "col_severity": "Severity",
        "col_entity": "Entity",
        "col_code": "Credit code",
        "col_district": "District",
        "col_rule": "Matter",
        "col_article": "Basis",
        "col_stage": "Stage",
        "col_due": "Deadline",
        "col_left": "Time left",
        "col_message": "Details",
        "col_id": "ID",
        "col_first": "First notified",
    },
}


def tr(locale: str, key: str, **values: object) -> str:
    text = LABELS[_loc(locale)][key]
    return text.format(**values) if values else text
