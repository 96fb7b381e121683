"""Every ORM table, imported here so Alembic's autogenerate sees them all."""
from journey.models.accounts import Account, Stakeholder
from journey.models.audit import AuditEntry
from journey.models.base import ActorKind, Base, DealStatus, EventStatus, JourneyStatus, Role, TaskStatus
from journey.models.collab import ShareLink, TaskComment, TaskSlip
from journey.models.crm import CrmDealStage
from journey.models.deals import Deal, Journey
from journey.models.evaluation import PendingEvaluation
from journey.models.health import ContactHold, HealthHistory, HealthOverride, HealthScore, Signal
from journey.models.inbox import InboundEvent
from journey.models.jobs import JobRun
from journey.models.kpis import KpiSnapshot, Opportunity
from journey.models.notify import OutboxMessage, Reminder
from journey.models.objectives import Objective, ObjectiveProgress
from journey.models.ownership import AccountOwner
from journey.models.packets import HandoffPacket, PacketAcknowledgement, PacketVersion
from journey.models.plans import Milestone, PlanSlip, PlanTask
from journey.models.reviews import Review, ReviewReminder
from journey.models.team import ApiToken, TeamMember
from journey.models.web import SigninLink, WebSession
from journey.models.writeback import CrmIdentity, CrmWrite

__all__ = [
    "CrmDealStage", "CrmIdentity", "CrmWrite", "KpiSnapshot", "Opportunity", "ShareLink", "TaskComment", "TaskSlip",
    "ContactHold", "HealthHistory", "HealthOverride", "HealthScore", "Signal",
    "AccountOwner", "Objective", "ObjectiveProgress",
    "Account", "ActorKind", "ApiToken", "AuditEntry", "Base", "Deal", "DealStatus", "EventStatus",
    "HandoffPacket", "InboundEvent", "JobRun", "Journey", "JourneyStatus", "Milestone", "OutboxMessage",
    "PacketAcknowledgement", "PacketVersion", "PendingEvaluation", "PlanSlip", "PlanTask", "Reminder", "Review",
    "ReviewReminder", "Role", "SigninLink", "Stakeholder", "TaskStatus", "TeamMember",
    "WebSession",
]
