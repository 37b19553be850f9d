"""`webviewSessionCreate`: the native shell's hand-off to a WebView."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import strawberry

from bff.graphql.enums import error_code_enum
from bff.graphql.errors import UserError
from webviews.errors import WebviewErrorCode
from webviews.service import WebviewSessions

if TYPE_CHECKING:
    from bff.graphql.context import Context


# The domain's own enum: its codes are declared once, there.
error_code_enum(WebviewErrorCode, "Why no WebView session was created.")


@strawberry.type(description="A problem with `webviewSessionCreate`.")
class WebviewUserError(UserError):
    code: WebviewErrorCode = strawberry.field(description="Machine-readable reason.")


@strawberry.input(description="Where the WebView should land.")
class WebviewSessionCreateInput:
    path: str = strawberry.field(
        description="A page under `/webviews/`, e.g. `/webviews/offers` or `/webviews/level`."
    )


@strawberry.type(description="Result of `webviewSessionCreate`.")
class WebviewSessionCreatePayload:
    url: str | None = strawberry.field(
        description="Open this once in the WebView: it signs the page in (an HttpOnly cookie) "
        "and redirects to the path. Single use, short-lived."
    )
    expires_at: datetime | None = strawberry.field(description="The URL is void after this.")
    user_errors: list[WebviewUserError] = strawberry.field(
        description="Why nothing was created; empty on success."
    )


@strawberry.type
class WebviewMutations:
    @strawberry.mutation(
        description="The signed-in customer's one-time URL that opens a WebView page signed in."
    )
    async def webview_session_create(
        self, info: strawberry.Info[Context, None], input: WebviewSessionCreateInput
    ) -> WebviewSessionCreatePayload:
        context = info.context
        customer_id = await context.require_customer()
        async with context.db.unit_of_work() as session:
            issued = await WebviewSessions.configured(session, context.settings).issue_code(
                customer_id, input.path
            )
        base = context.settings.public_url or str(context.request.base_url)
        url = f"{base.rstrip('/')}/webviews/session/{issued.code}"
        return WebviewSessionCreatePayload(url=url, expires_at=issued.expires_at, user_errors=[])
