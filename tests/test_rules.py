"""Every rule of SPEC section 4, one case per row: the day before its first stage, each stage, the deadline day
(days_left 0, not overdue), the day after, and its resolution. Dates checked by hand (see test_legal_time for
the 2026 holiday arrangement)."""

from __future__ import annotations

import pytest

from monitor import legal_time as lt
from monitor.config import RuleSettings
from monitor.domain import EventKind as K
from monitor.domain import RuleId as R
from monitor.domain import Scheme, Status
from tests.rulecases import ABSENT, Case, cert, ev, filed, monthly, run


@pytest.fixture(scope="module")
def cal() -> lt.WorkCalendar:
    return lt.WorkCalendar()


# Title granted 2023-12-20: valid through 2026-12-20 (a Sunday; validity is never moved).
C23 = [cert("2023-12-20")]
F23 = monthly("2024-01", "2026-11")
CERT = [
    Case(
        "expiring: 91 days before",
        C23,
        "2026-09-20",
        {R.CERT_EXPIRING: ABSENT, R.RENEWAL_YEAR: ("year", 91)},
        F23,
        Status.ACTIVE,
    ),
    Case(
        "expiring: 90 days before", C23, "2026-09-21", {R.CERT_EXPIRING: ("90d", 90), R.RENEWAL_YEAR: ("year", 90)}, F23
    ),
    Case(
        "expiring: 31 days before", C23, "2026-11-19", {R.CERT_EXPIRING: ("90d", 31), R.RENEWAL_YEAR: ("year", 31)}, F23
    ),
    Case(
        "expiring: 30 days before", C23, "2026-11-20", {R.CERT_EXPIRING: ("30d", 30), R.RENEWAL_YEAR: ("year", 30)}, F23
    ),
    Case("expiring: 7 days before", C23, "2026-12-13", {R.CERT_EXPIRING: ("7d", 7), R.RENEWAL_YEAR: ("year", 7)}, F23),
    Case(
        "expiring: last valid day",
        C23,
        "2026-12-20",
        {R.CERT_EXPIRING: ("7d", 0), R.CERT_EXPIRED: ABSENT, R.RENEWAL_YEAR: ("year", 0)},
        F23,
        Status.ACTIVE,
    ),
    Case(
        "expired: the day after",
        C23,
        "2026-12-21",
        {R.CERT_EXPIRING: ABSENT, R.CERT_EXPIRED: ("expired", -1), R.RENEWAL_YEAR: ("year", -1)},
        F23,
        Status.EXPIRED,
    ),
    Case("expired: 90th day after", C23, "2027-03-20", {R.CERT_EXPIRED: ("expired", -90)}, F23, Status.EXPIRED),
    Case("expired: 91st day after", C23, "2027-03-21", {R.CERT_EXPIRED: ABSENT}, F23, Status.EXPIRED),
    Case(
        "expiring: resolved by an application",
        # The district recommended it within its 30 days (Art. 9), so no review is pending either.
        [*C23, ev(K.APPLIED, "2026-10-01", detail="2026"), ev(K.DISTRICT_REVIEWED, "2026-10-20", "passed", "2026")],
        "2026-11-20",
        {R.CERT_EXPIRING: ABSENT, R.RENEWAL_YEAR: ABSENT},
        F23,
    ),
    Case(
        "expired: resolved by renewal",
        [*C23, cert("2026-12-01")],
        "2026-12-21",
        {R.CERT_EXPIRING: ABSENT, R.CERT_EXPIRED: ABSENT, R.RENEWAL_YEAR: ABSENT},
        F23,
        Status.ACTIVE,
    ),
    Case("renewal year: Dec 31 before", C23, "2025-12-31", {R.RENEWAL_YEAR: ABSENT}, F23),
    Case("renewal year: Jan 1", C23, "2026-01-01", {R.RENEWAL_YEAR: ("year", 353)}, F23),
    Case(
        "renewal year: after expiry, same year",
        C23,
        "2026-12-31",
        {R.RENEWAL_YEAR: ("year", -11), R.CERT_EXPIRED: ("expired", -11)},
        F23,
    ),
    Case("renewal year: next year", C23, "2027-01-01", {R.RENEWAL_YEAR: ABSENT, R.CERT_EXPIRED: ("expired", -12)}, F23),
]

# Title granted 2026-01-10: filings owed from February 2026. October's deadline is Saturday 31 Oct, moved to
# Monday 2 November (Art. 203); November's is Monday 30 November.
C26 = [cert("2026-01-10")]
FILINGS = [
    Case("due soon: 6 days before", C26, "2026-10-27", {R.FILING_DUE_SOON: ABSENT}, monthly("2026-02", "2026-09")),
    Case("due soon: 5 days before", C26, "2026-10-28", {R.FILING_DUE_SOON: ("5d", 5)}, monthly("2026-02", "2026-09")),
    Case("due soon: 1 day before", C26, "2026-11-01", {R.FILING_DUE_SOON: ("1d", 1)}, monthly("2026-02", "2026-09")),
    Case(
        "due soon: deadline day moved by Art. 203",
        C26,
        "2026-11-02",
        {R.FILING_DUE_SOON: ("1d", 0), R.FILING_MISSED: ABSENT},
        monthly("2026-02", "2026-09"),
    ),
    Case(
        "missed: the day after the deadline",
        C26,
        "2026-11-03",
        {R.FILING_DUE_SOON: ABSENT, R.FILING_MISSED: ("streak-1", -1)},
        monthly("2026-02", "2026-09"),
    ),
    Case(
        "due soon: resolved by filing",
        C26,
        "2026-10-30",
        {R.FILING_DUE_SOON: ABSENT},
        {**monthly("2026-02", "2026-09"), **filed(("2026-10", "2026-10-29"))},
    ),
    Case(
        "missed: filed on the moved deadline is on time",
        C26,
        "2026-11-03",
        {R.FILING_MISSED: ABSENT},
        {**monthly("2026-02", "2026-09"), **filed(("2026-10", "2026-11-02"))},
    ),
    Case("missed: streak of 2", C26, "2026-11-03", {R.FILING_MISSED: ("streak-2", -1)}, monthly("2026-02", "2026-08")),
    Case("missed: streak of 3", C26, "2026-11-03", {R.FILING_MISSED: ("streak-3", -1)}, monthly("2026-02", "2026-07")),
    Case("missed: streak of 5", C26, "2026-11-03", {R.FILING_MISSED: ("streak-5", -1)}, monthly("2026-02", "2026-05")),
    Case(
        "revocation due: the 6th deadline day is still a 5-streak",
        C26,
        "2026-11-02",
        {R.FILING_MISSED: ("streak-5", -33), R.FILING_REVOCATION_DUE: ABSENT, R.FILING_DUE_SOON: ("1d", 0)},
        monthly("2026-02", "2026-04"),
    ),
    Case(
        "revocation due: the day after the 6th deadline",
        C26,
        "2026-11-03",
        {R.FILING_MISSED: ABSENT, R.FILING_REVOCATION_DUE: ("due", -1)},
        monthly("2026-02", "2026-04"),
    ),
    Case(
        "revocation due: resolved by the decision",
        [*C26, ev(K.REVOKED, "2026-11-10", detail="20")],
        "2026-11-11",
        {R.FILING_REVOCATION_DUE: ABSENT, R.FILING_DUE_SOON: ABSENT},
        monthly("2026-02", "2026-04"),
        Status.REVOKED,
    ),
    Case(
        "missed: a late filing does not break the streak by default",
        C26,
        "2026-11-06",
        {R.FILING_MISSED: ("streak-1", -4)},
        {**monthly("2026-02", "2026-09"), **filed(("2026-10", "2026-11-05"))},
    ),
    Case(
        "missed: a late filing counts when configured so",
        C26,
        "2026-11-06",
        {R.FILING_MISSED: ABSENT},
        {**monthly("2026-02", "2026-09"), **filed(("2026-10", "2026-11-05"))},
        settings=RuleSettings(late_filing_counts_as_miss=False),
    ),
    Case(
        "missed: resolved by the next month filed on time",
        C26,
        "2026-12-01",
        {R.FILING_MISSED: ABSENT},
        {**monthly("2026-02", "2026-09"), **filed(("2026-11", "2026-11-20"))},
    ),
    Case(
        "filings: the month of certification is not owed",
        [cert("2026-10-15")],
        "2026-11-03",
        {R.FILING_MISSED: ABSENT, R.FILING_DUE_SOON: ABSENT},
    ),
    Case(
        "filings: a suspended title still owes them",
        [*C26, ev(K.RESTRUCTURED, "2026-08-01", detail="rename")],
        "2026-11-03",
        {
            R.FILING_MISSED: ("streak-3", -1),
            R.RESTRUCTURING_SUSPENDED: ("suspended", None),
            R.RESTRUCTURING_REPORT_OVERDUE: ("overdue", -1),
        },
        monthly("2026-02", "2026-07"),
        Status.SUSPENDED,
    ),
    Case(
        "filings: a revoked title owes none",
        [*C26, ev(K.MISCONDUCT, "2026-06-15", detail="fraud")],
        "2026-11-03",
        {
            R.FILING_MISSED: ABSENT,
            R.FILING_REVOCATION_DUE: ABSENT,
            R.FILING_DUE_SOON: ABSENT,
            R.MISCONDUCT_REVOKED: ("revoked", 955),
        },
        monthly("2026-02", "2026-04"),
        Status.REVOKED,
    ),
    Case(
        "filings: an expired title owes nothing after expiry",
        [cert("2023-08-15")],
        "2026-11-03",
        {
            R.FILING_MISSED: ABSENT,
            R.FILING_DUE_SOON: ABSENT,
            R.RENEWAL_YEAR: ("year", -80),
            R.CERT_EXPIRED: ("expired", -80),
        },
        monthly("2023-09", "2026-07"),
        Status.EXPIRED,
    ),
    Case(
        "filings: due day 10 of the next month (Oct 10 2026 is a worked Saturday)",
        C26,
        "2026-10-05",
        {R.FILING_DUE_SOON: ("5d", 5), R.FILING_MISSED: ABSENT},
        monthly("2026-02", "2026-08"),
        settings=RuleSettings(filing_due_day=10),
    ),
]

# Restructured on 2026-08-31: report due 2026-11-30 (a Monday). Restructured 2026-07-01: due 2026-10-01,
# National Day, moved to 2026-10-08.
C25 = [cert("2025-01-10")]
F25 = monthly("2025-02", "2026-11")
RS = [*C25, ev(K.RESTRUCTURED, "2026-08-31", detail="rename")]
RESTRUCTURING = [
    Case("restructured: day before", RS, "2026-08-30", {R.RESTRUCTURING_SUSPENDED: ABSENT}, F25, Status.ACTIVE),
    Case(
        "restructured: suspended from its date",
        RS,
        "2026-08-31",
        {R.RESTRUCTURING_SUSPENDED: ("suspended", None), R.RESTRUCTURING_REPORT_DUE: ABSENT},
        F25,
        Status.SUSPENDED,
    ),
    Case(
        "report due: 31 days before",
        RS,
        "2026-10-30",
        {R.RESTRUCTURING_REPORT_DUE: ABSENT, R.RESTRUCTURING_SUSPENDED: ("suspended", None)},
        F25,
    ),
    Case(
        "report due: 30 days before",
        RS,
        "2026-10-31",
        {R.RESTRUCTURING_REPORT_DUE: ("30d", 30), R.RESTRUCTURING_SUSPENDED: ("suspended", None)},
        F25,
    ),
    Case(
        "report due: 14 days before",
        RS,
        "2026-11-16",
        {R.RESTRUCTURING_REPORT_DUE: ("14d", 14), R.RESTRUCTURING_SUSPENDED: ("suspended", None)},
        F25,
    ),
    Case(
        "report due: 3 days before",
        RS,
        "2026-11-27",
        {R.RESTRUCTURING_REPORT_DUE: ("3d", 3), R.RESTRUCTURING_SUSPENDED: ("suspended", None)},
        F25,
    ),
    Case(
        "report due: deadline day",
        RS,
        "2026-11-30",
        {
            R.RESTRUCTURING_REPORT_DUE: ("3d", 0),
            R.RESTRUCTURING_REPORT_OVERDUE: ABSENT,
            R.RESTRUCTURING_SUSPENDED: ("suspended", None),
        },
        F25,
    ),
    Case(
        "report overdue: the day after",
        RS,
        "2026-12-01",
        {
            R.RESTRUCTURING_REPORT_DUE: ABSENT,
            R.RESTRUCTURING_REPORT_OVERDUE: ("overdue", -1),
            R.RESTRUCTURING_SUSPENDED: ("suspended", None),
        },
        F25,
        Status.SUSPENDED,
    ),
    Case(
        "report due: deadline on National Day moves to Oct 8",
        [*C25, ev(K.RESTRUCTURED, "2026-07-01", detail="merger")],
        "2026-10-08",
        {
            R.RESTRUCTURING_REPORT_DUE: ("3d", 0),
            R.RESTRUCTURING_REPORT_OVERDUE: ABSENT,
            R.RESTRUCTURING_SUSPENDED: ("suspended", None),
        },
        F25,
    ),
    Case(
        "report overdue: after the moved deadline",
        [*C25, ev(K.RESTRUCTURED, "2026-07-01", detail="merger")],
        "2026-10-09",
        {R.RESTRUCTURING_REPORT_OVERDUE: ("overdue", -1), R.RESTRUCTURING_SUSPENDED: ("suspended", None)},
        F25,
    ),
    Case(
        "reported: review pending, still suspended",
        [*RS, ev(K.RESTRUCTURING_REPORTED, "2026-11-20")],
        "2026-12-01",
        {
            R.RESTRUCTURING_REPORT_OVERDUE: ABSENT,
            R.RESTRUCTURING_REVIEW_PENDING: ("reported", None),
            R.RESTRUCTURING_SUSPENDED: ("suspended", None),
        },
        F25,
        Status.SUSPENDED,
    ),
    Case(
        "reviewed and passed: the suspension is lifted",
        [*RS, ev(K.RESTRUCTURING_REPORTED, "2026-11-20"), ev(K.RESTRUCTURING_REVIEWED, "2027-03-01", "passed")],
        "2027-03-01",
        {
            R.RESTRUCTURING_SUSPENDED: ABSENT,
            R.RESTRUCTURING_REVIEW_PENDING: ABSENT,
            R.FILING_DUE_SOON: ("1d", 0),
            R.FILING_MISSED: ("streak-2", -28),
        },
        F25,
        Status.ACTIVE,
    ),
    Case(
        "reviewed and failed: the title is revoked (Art. 18)",
        [*RS, ev(K.RESTRUCTURING_REPORTED, "2026-11-20"), ev(K.RESTRUCTURING_REVIEWED, "2027-03-01", "failed")],
        "2027-03-01",
        {R.RESTRUCTURING_SUSPENDED: ABSENT, R.RESTRUCTURING_REVIEW_PENDING: ABSENT},
        F25,
        Status.REVOKED,
    ),
]

# Failed evaluation 2026-04-01: six months end 2026-10-01 (National Day), so the deadline is 2026-10-08.
EV = [*C25, ev(K.EVALUATED, "2026-04-01", "failed")]
RECTIFICATION = [
    Case("rectification: day before", EV, "2026-03-31", {R.RECTIFICATION_DUE: ABSENT}, F25, Status.ACTIVE),
    Case("rectification: start", EV, "2026-04-01", {R.RECTIFICATION_DUE: ("start", 190)}, F25, Status.SUSPENDED),
    Case("rectification: 61 days before", EV, "2026-08-08", {R.RECTIFICATION_DUE: ("start", 61)}, F25),
    Case("rectification: 60 days before", EV, "2026-08-09", {R.RECTIFICATION_DUE: ("60d", 60)}, F25),
    Case("rectification: 30 days before", EV, "2026-09-08", {R.RECTIFICATION_DUE: ("30d", 30)}, F25),
    Case("rectification: 7 days before", EV, "2026-10-01", {R.RECTIFICATION_DUE: ("7d", 7)}, F25),
    Case(
        "rectification: deadline day (moved from Oct 1)",
        EV,
        "2026-10-08",
        {R.RECTIFICATION_DUE: ("7d", 0), R.RECTIFICATION_OVERDUE: ABSENT},
        F25,
        Status.SUSPENDED,
    ),
    Case(
        "rectification overdue: the day after",
        EV,
        "2026-10-09",
        {R.RECTIFICATION_DUE: ABSENT, R.RECTIFICATION_OVERDUE: ("overdue", -1)},
        F25,
        Status.SUSPENDED,
    ),
    Case(
        "rectification: resolved by acceptance",
        [*EV, ev(K.RECTIFICATION_ACCEPTED, "2026-09-01")],
        "2026-10-09",
        {R.RECTIFICATION_DUE: ABSENT, R.RECTIFICATION_OVERDUE: ABSENT},
        F25,
        Status.ACTIVE,
    ),
    Case(
        "rectification: a rejection leaves the deadline running",
        [*EV, ev(K.RECTIFICATION_REJECTED, "2026-09-01")],
        "2026-09-08",
        {R.RECTIFICATION_DUE: ("30d", 30)},
        F25,
        Status.SUSPENDED,
    ),
    Case(
        "rectification overdue: resolved by the revocation decision",
        [*EV, ev(K.REVOKED, "2026-10-20", detail="21")],
        "2026-10-20",
        {R.RECTIFICATION_OVERDUE: ABSENT},
        F25,
        Status.REVOKED,
    ),
]

# Fraud found 2026-05-09: revoked that day, no application through 2029-05-09.
MC = [cert("2025-03-01"), ev(K.MISCONDUCT, "2026-05-09", detail="fraud")]
MISCONDUCT = [
    Case(
        "misconduct: day before",
        MC,
        "2026-05-08",
        {R.MISCONDUCT_REVOKED: ABSENT, R.FILING_REVOCATION_DUE: ("due", -220)},
        {},
        Status.ACTIVE,
    ),
    Case(
        "misconduct: revoked from its date",
        MC,
        "2026-05-09",
        {R.MISCONDUCT_REVOKED: ("revoked", 1096)},
        {},
        Status.REVOKED,
    ),
    Case(
        "misconduct: last day of the ban", MC, "2029-05-09", {R.MISCONDUCT_REVOKED: ("revoked", 0)}, {}, Status.REVOKED
    ),
    Case("misconduct: the ban is over", MC, "2029-05-10", {R.MISCONDUCT_REVOKED: ABSENT}, {}, Status.REVOKED),
    Case(
        "application during the ban",
        [*MC, ev(K.APPLIED, "2027-03-01", detail="2027")],
        "2027-03-01",
        {R.APPLICATION_DURING_BAN: ("applied", 800), R.MISCONDUCT_REVOKED: ("revoked", 800)},
    ),
    Case(
        "application on the ban's last day",
        [*MC, ev(K.APPLIED, "2029-05-09", detail="2029")],
        "2029-05-09",
        {R.APPLICATION_DURING_BAN: ("applied", 0), R.MISCONDUCT_REVOKED: ("revoked", 0)},
    ),
    Case(
        "application the day after the ban",
        [*MC, ev(K.APPLIED, "2029-05-10", detail="2029")],
        "2029-05-10",
        {R.APPLICATION_DURING_BAN: ABSENT},
    ),
]

# A 2018-scheme title granted 2024-06-01 (valid through 2027-06-01).
LG = [cert("2024-06-01", Scheme.LEGACY_2018)]
LEGACY = [
    Case("legacy: before the title", LG, "2024-05-31", {R.LEGACY_REAPPLY_REQUIRED: ABSENT}, {}, Status.UNCERTIFIED),
    Case("legacy: active 2018 title", LG, "2024-06-01", {R.LEGACY_REAPPLY_REQUIRED: ("active", None)}),
    Case(
        "legacy: resolved by re-applying",
        [*LG, ev(K.APPLIED, "2026-04-01", detail="2026")],
        "2026-04-01",
        {R.LEGACY_REAPPLY_REQUIRED: ABSENT, R.FILING_REVOCATION_DUE: ("due", -456)},
    ),
    Case(
        "legacy: gone once expired",
        LG,
        "2027-06-02",
        {R.LEGACY_REAPPLY_REQUIRED: ABSENT, R.RENEWAL_YEAR: ("year", -1), R.CERT_EXPIRED: ("expired", -1)},
        {},
        Status.EXPIRED,
    ),
    Case(
        "legacy: a current title is not legacy",
        [cert("2024-06-01")],
        "2026-01-01",
        {R.LEGACY_REAPPLY_REQUIRED: ABSENT, R.FILING_REVOCATION_DUE: ("due", -366)},
    ),
]

# Publicized 2026-11-10: the week ends 2026-11-17; the finding starts 2026-11-18.
PB = [ev(K.PUBLICIZED, "2026-11-10")]
PUBLICITY = [
    Case("publicity: last day of the week", PB, "2026-11-17", {R.PUBLICITY_ENDED: ABSENT}, {}, Status.UNCERTIFIED),
    Case("publicity: ended", PB, "2026-11-18", {R.PUBLICITY_ENDED: ("ended", None)}),
    Case("publicity: resolved by certification", [*PB, cert("2026-11-20")], "2026-11-20", {R.PUBLICITY_ENDED: ABSENT}),
]

ALL = CERT + FILINGS + RESTRUCTURING + RECTIFICATION + MISCONDUCT + LEGACY + PUBLICITY


@pytest.mark.parametrize("case", ALL, ids=[c.id for c in ALL])
def test_rule_case(case: Case, cal: lt.WorkCalendar) -> None:
    run(case, cal)


def test_a_case_fails_on_a_finding_it_does_not_list(cal: lt.WorkCalendar) -> None:
    """The cases assert the whole set: a spurious finding of a rule a case does not mention fails it."""
    spurious = Case("expiring, renewal year unlisted", C23, "2026-09-21", {R.CERT_EXPIRING: ("90d", 90)}, F23)
    with pytest.raises(AssertionError, match="RENEWAL_YEAR"):
        run(spurious, cal)
