"""The rule table of SPEC section 4: article, severity and audiences of each rule ID."""

from __future__ import annotations

from dataclasses import dataclass

from monitor.domain import Audience, RuleId, Severity

E, S, D, A = Audience.ENTITY, Audience.STAFF, Audience.DISTRICT, Audience.ADMIN


@dataclass(frozen=True, slots=True)
class RuleMeta:
    article: int
    severity: Severity
    audiences: tuple[Audience, ...]


CATALOG: dict[RuleId, RuleMeta] = {
    RuleId.FILING_DUE_SOON: RuleMeta(20, Severity.NOTICE, (E,)),
    # FILING_MISSED's severity and audiences grow with the streak: see filing_missed_meta().
    RuleId.FILING_MISSED: RuleMeta(20, Severity.WARNING, (E,)),
    RuleId.FILING_REVOCATION_DUE: RuleMeta(20, Severity.CRITICAL, (S, A, D)),
    RuleId.RENEWAL_YEAR: RuleMeta(17, Severity.NOTICE, (E,)),
    RuleId.CERT_EXPIRING: RuleMeta(17, Severity.WARNING, (E, S)),
    RuleId.CERT_EXPIRED: RuleMeta(17, Severity.WARNING, (E, S, A)),
    RuleId.RESTRUCTURING_SUSPENDED: RuleMeta(18, Severity.CRITICAL, (E, D, S)),
    RuleId.RESTRUCTURING_REPORT_DUE: RuleMeta(18, Severity.WARNING, (E, D)),
    RuleId.RESTRUCTURING_REPORT_OVERDUE: RuleMeta(18, Severity.CRITICAL, (S, D, E)),
    RuleId.RESTRUCTURING_REVIEW_PENDING: RuleMeta(18, Severity.INFO, (A,)),
    RuleId.RECTIFICATION_DUE: RuleMeta(21, Severity.WARNING, (E, D)),
    RuleId.RECTIFICATION_OVERDUE: RuleMeta(21, Severity.CRITICAL, (S, A, D)),
    RuleId.MISCONDUCT_REVOKED: RuleMeta(22, Severity.CRITICAL, (S, A, D, E)),
    RuleId.APPLICATION_DURING_BAN: RuleMeta(22, Severity.CRITICAL, (S,)),
    RuleId.LEGACY_REAPPLY_REQUIRED: RuleMeta(27, Severity.WARNING, (E, S)),
    RuleId.DISTRICT_REPORT_DUE: RuleMeta(21, Severity.NOTICE, (D,)),
    RuleId.DISTRICT_REPORT_OVERDUE: RuleMeta(21, Severity.WARNING, (D, A)),
    RuleId.REGULATION_EXPIRING: RuleMeta(27, Severity.NOTICE, (A,)),
    RuleId.PUBLICITY_ENDED: RuleMeta(10, Severity.INFO, (S,)),
    # SPEC 9. The article is 4 for a platform, 6 for a base (APPLICATION_INELIGIBLE) and 5 or 7
    # (SERVICE_BELOW_THRESHOLD): the rules put the entity's own in the finding.
    RuleId.APPLICATION_INELIGIBLE: RuleMeta(4, Severity.INFO, (D, S)),
    RuleId.DISTRICT_REVIEW_PENDING: RuleMeta(9, Severity.NOTICE, (D,)),
    RuleId.SERVICE_BELOW_THRESHOLD: RuleMeta(5, Severity.WARNING, (E, S)),
}

# Findings that wait on a decision by the service center (listed first in the digest).
DECISIONS = frozenset(
    {
        RuleId.FILING_REVOCATION_DUE,
        RuleId.RECTIFICATION_OVERDUE,
        RuleId.RESTRUCTURING_REPORT_OVERDUE,
        RuleId.APPLICATION_DURING_BAN,
        RuleId.PUBLICITY_ENDED,
    }
)


def filing_missed_meta(streak: int) -> RuleMeta:
    """n <= 2: warning to the entity; 3-4: also district and staff; 5: critical, the final warning."""
    if streak <= 2:
        return RuleMeta(20, Severity.WARNING, (E,))
    if streak <= 4:
        return RuleMeta(20, Severity.WARNING, (E, D, S))
    return RuleMeta(20, Severity.CRITICAL, (E, D, S))
