"""The tables the core owns. Every model is imported here so Alembic sees it."""

from gateway.models.audit import (
    AuditCheckpoint,
    AuditCosignature,
    AuditEntry,
    AuditHead,
    AuditPrune,
    AuditRetentionWindow,
    AuditTile,
)
from gateway.models.audit_review import AuditReviewMark
from gateway.models.demo_identity import DemoAuthorizationCode
from gateway.models.files import StoredFile, StoredFileChunk
from gateway.models.identity import (
    ApiToken,
    Citizen,
    LocalAccount,
    LoginThrottle,
    SpentOidcState,
    StaffRole,
    StaffUser,
    UserSession,
)
from gateway.models.issued import IssuedDocument
from gateway.models.outbox import OutboxMessage
from gateway.models.refusals import RefusalCount
from gateway.models.requests import Attachment, ReferenceCounter, RequestEvent, ServiceRequest
from gateway.models.tenancy import CommuneScoped
from gateway.models.worker import WorkerJob, WorkerRun

__all__ = [
    "ApiToken",
    "Attachment",
    "AuditCheckpoint",
    "AuditCosignature",
    "AuditEntry",
    "AuditHead",
    "AuditPrune",
    "AuditRetentionWindow",
    "AuditReviewMark",
    "AuditTile",
    "Citizen",
    "CommuneScoped",
    "DemoAuthorizationCode",
    "IssuedDocument",
    "LocalAccount",
    "LoginThrottle",
    "OutboxMessage",
    "ReferenceCounter",
    "RefusalCount",
    "RequestEvent",
    "ServiceRequest",
    "SpentOidcState",
    "StaffRole",
    "StaffUser",
    "StoredFile",
    "StoredFileChunk",
    "UserSession",
    "WorkerJob",
    "WorkerRun",
]
