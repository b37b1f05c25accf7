"""Rendered previews of the e-mail templates (admins)."""

from fastapi import APIRouter

from app.api.deps import AdminDep, SettingsDep
from app.api.routing import StrictRoute
from app.schemas.common import error_responses
from app.schemas.unsubscribe import EmailPreview
from app.services import email_previews
from app.services.email_previews import TemplateName

router = APIRouter(prefix="/email-templates", tags=["admin"], route_class=StrictRoute)


@router.get(
    "/{name}/preview", operation_id="admin_email_templates_preview", responses=error_responses(422)
)
async def preview(admin: AdminDep, settings: SettingsDep, name: TemplateName) -> EmailPreview:
    """The template rendered with sample values: subject, plain text and HTML (CSS inlined)."""
    subject, text, html = email_previews.preview(settings, name)
    return EmailPreview(name=name, subject=subject, text=text, html=html)
