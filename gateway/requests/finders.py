"""Rows a request's pages show next to it: the staff named in its history, one of its attachments."""

from __future__ import annotations

from sqlmodel import Session, col, select

from gateway.models import Attachment, ServiceRequest, StaffUser
from gateway.requests.errors import RequestNotFound


def staff_names(session: Session, ids: set[int]) -> dict[int, str]:
    """Display names of staff accounts, for history lines and assignments."""
    if not ids:
        return {}
    rows = session.exec(select(StaffUser).where(col(StaffUser.id).in_(ids))).all()
    return {staff.id: staff.display_name for staff in rows if staff.id is not None}


def attachments_of(session: Session, row: ServiceRequest) -> list[Attachment]:
    """A request's attachments, oldest first."""
    query = select(Attachment).where(Attachment.request_id == row.id).order_by(col(Attachment.created_at))
    return list(session.exec(query).all())


def find_attachment(session: Session, row: ServiceRequest, attachment_id: str) -> Attachment:
    """One of ``row``'s attachments by its public id (404 for any other, even of another request)."""
    attachment = session.exec(
        select(Attachment).where(Attachment.public_id == attachment_id, Attachment.request_id == row.id)
    ).first()
    if attachment is None:
        raise RequestNotFound
    return attachment


def family_of(session: Session, row: ServiceRequest) -> list[ServiceRequest]:
    """The other requests filed with ``row`` (in the session's commune), in filing order; none when filed alone."""
    if row.family_id is None:
        return []
    return list(
        session.exec(
            select(ServiceRequest)
            .where(ServiceRequest.family_id == row.family_id, ServiceRequest.id != row.id)
            .order_by(col(ServiceRequest.id))
        ).all()
    )
