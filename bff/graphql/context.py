"""The per-request context: who is asking, in which language, and the loaders."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import Response

from bff.customers.directory import CustomerDirectory
from bff.customers.models import Customer
from bff.graphql.errors import Forbidden, Unauthenticated
from bff.graphql.loaders import Loaders
from bff.kernel.auth import InvalidToken, Principal, Role, TokenVerifier, bearer_token
from bff.kernel.catalogue import CatalogueCache
from bff.kernel.config import Settings
from bff.kernel.db import Database, RequestReads
from bff.kernel.i18n import negotiate_locale
from bff.kernel.secrets import SecretBox
from bff.policies import Policies


@dataclass
class Context:
    request: Request
    response: Response
    settings: Settings
    db: Database
    directory: CustomerDirectory
    catalogue: CatalogueCache
    loaders: Loaders
    reads: RequestReads
    locale: str
    secret_box: SecretBox
    policies: Policies
    # The catalogue's generation when the request began: what the request builds from
    # catalogue rows is kept only if nothing changed since (CatalogueCache.keep).
    catalogue_generation: int
    principal: Principal | None = None
    # A bearer token that failed verification: the request is refused, never answered
    # as if anonymous (bff.graphql.view).
    token_refused: InvalidToken | None = None
    _customer_id: int | None = field(default=None, repr=False)

    async def viewer_customer_id(self) -> int | None:
        """The signed-in customer's id (created on first sight); None for staff or anonymous."""
        known, customer_id = self.known_viewer_customer_id()
        if known:
            return customer_id
        assert self.principal is not None
        self._customer_id = await self.directory.customer_id(
            self.principal.subject, self.reads, self._prime_customer
        )
        return self._customer_id

    def known_viewer_customer_id(self) -> tuple[bool, int | None]:
        """``(True, viewer_customer_id())`` when that needs no read, else ``(False, None)``."""
        if self.principal is None or self.principal.is_staff:
            return True, None
        return self._customer_id is not None, self._customer_id

    def _prime_customer(self, customer: Customer) -> None:
        self.loaders.customer_by_id.prime(customer.id, customer)

    async def require_customer(self) -> int:
        customer_id = await self.viewer_customer_id()
        if customer_id is None:
            raise Unauthenticated("sign in as a customer to do this")
        return customer_id

    def require_role(self, role: Role) -> Principal:
        if self.principal is None:
            raise Unauthenticated("sign in as staff to do this")
        if not self.principal.has_role(role):
            raise Forbidden(f"this needs the '{role.value}' role")
        return self.principal

    async def may_see_customer(self, customer_id: int) -> bool:
        """Support staff see every customer's objects; a customer sees their own."""
        if self.is_staff_with(Role.SUPPORT):
            return True
        return await self.viewer_customer_id() == customer_id

    def is_staff_with(self, role: Role) -> bool:
        return self.principal is not None and self.principal.has_role(role)


async def build_context(request: Request, response: Response) -> Context:
    state = request.app.state
    verifier: TokenVerifier = state.verifier
    principal, refused = None, None
    try:
        token = bearer_token(request.headers.get("authorization"))
        if token is not None:
            principal = await verifier.verify(token)
    except InvalidToken as error:
        refused = error
    reads = RequestReads(state.db)
    return Context(
        request=request,
        response=response,
        settings=state.settings,
        db=state.db,
        directory=state.directory,
        catalogue=state.catalogue,
        loaders=Loaders.build(reads, state.catalogue),
        reads=reads,
        locale=negotiate_locale(request.headers.get("accept-language")),
        secret_box=state.secret_box,
        policies=state.policies,
        catalogue_generation=state.catalogue.generation,
        principal=principal,
        token_refused=refused,
    )
