"""Partner mutations: customers activate offers; staff manage partners and offers."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import strawberry

from bff.graphql.inputs import (
    Translations,
    describe_changes,
    given_fields,
    translations_change,
    translations_field,
)
from bff.graphql.ledger.types import (
    CurrencyCode,
)
from bff.graphql.levels.types import LevelCode
from bff.graphql.partners.types import (
    Offer,
    OfferActivation,
    OfferRewardKind,
    Partner,
    PartnerCategory,
    PartnerUserError,
    offer_view,
)
from bff.kernel.auth import Role
from bff.kernel.errors import NotFound
from bff.kernel.global_ids import decode_typed_id
from bff.partners import models
from bff.partners.service import (
    ActivationService,
    OfferDraft,
    PartnerDraft,
    PartnerService,
)

if TYPE_CHECKING:
    from bff.graphql.context import Context


@strawberry.input(description="The offer to activate or deactivate.")
class OfferActivateInput:
    offer_id: strawberry.ID = strawberry.field(description="Global id of the offer.")


@strawberry.input(description="The offer to deactivate.")
class OfferDeactivateInput:
    offer_id: strawberry.ID = strawberry.field(description="Global id of the offer.")


@strawberry.type(description="Result of `offerActivate` or `offerDeactivate`.")
class OfferActivationPayload:
    offer: Offer | None = strawberry.field(description="The offer.")
    activation: OfferActivation | None = strawberry.field(description="The activation now.")
    user_errors: list[PartnerUserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of `offerActivate`.")
class OfferActivatePayload(OfferActivationPayload):
    pass


@strawberry.type(description="Result of `offerDeactivate`.")
class OfferDeactivatePayload(OfferActivationPayload):
    pass


@strawberry.input(description="A new partner.")
class PartnerCreateInput:
    code: str = strawberry.field(description="2 to 64 of a-z, 0-9, - and _; used in API URLs.")
    name: str = strawberry.field(description="Display name.")
    category: PartnerCategory = strawberry.field(description="What kind of business it is.")
    logo_url: str | None = strawberry.field(
        default=None, description="HTTPS URL, or a file of this service (/webviews/static/...)."
    )
    description: str = strawberry.field(default="", description="About the partner.")
    adapter: str | None = strawberry.field(default=None, description="Event format adapter.")
    kopecks_per_point: int | None = strawberry.field(
        default=None, description="Value of a point when paying there; null: not accepted."
    )
    translations: Translations = translations_field()


@strawberry.input(description="Partner fields to change; omitted fields stay.")
class PartnerUpdateInput:
    code: str = strawberry.field(description="Which partner.")
    name: str | None = strawberry.UNSET
    category: PartnerCategory | None = strawberry.UNSET
    logo_url: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    adapter: str | None = strawberry.UNSET
    kopecks_per_point: int | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    translations: Translations = translations_change()


describe_changes(PartnerUpdateInput, PartnerCreateInput)


@strawberry.type(description="Result of a partner mutation.")
class PartnerPayload:
    partner: Partner | None = strawberry.field(description="The partner now.")
    secret: str | None = strawberry.field(
        description="The partner's new signing secret: shown only by partnerCreate and "
        "partnerSecretRotate, and never again."
    )
    user_errors: list[PartnerUserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of `partnerCreate`.")
class PartnerCreatePayload(PartnerPayload):
    pass


@strawberry.type(description="Result of `partnerUpdate`.")
class PartnerUpdatePayload(PartnerPayload):
    pass


@strawberry.type(description="Result of `partnerSecretRotate`.")
class PartnerSecretRotatePayload(PartnerPayload):
    pass


@strawberry.input(description="A new offer.")
class OfferCreateInput:
    partner_code: str = strawberry.field(description="Whose offer.")
    title: str = strawberry.field(description="Short title.")
    reward_kind: OfferRewardKind = strawberry.field(description="Fixed or percentage.")
    valid_from: datetime = strawberry.field(description="Open from.")
    currency: CurrencyCode = strawberry.field(default=CurrencyCode.POINTS, description="Accrued.")
    description: str = strawberry.field(default="", description="What to do.")
    terms: str = strawberry.field(default="", description="The fine print.")
    reward_points: int | None = strawberry.field(default=None, description="FIXED points.")
    reward_percent_basis_points: int | None = strawberry.field(default=None, description="PERCENT.")
    reward_cap: int | None = strawberry.field(default=None, description="PERCENT cap in points.")
    valid_to: datetime | None = strawberry.field(default=None, description="Open until.")
    per_customer_limit: int | None = strawberry.field(default=None, description="Per customer.")
    budget: int | None = strawberry.field(default=None, description="Points in all.")
    cities: list[str] | None = strawberry.field(default=None, description="Only these cities.")
    levels: list[LevelCode] | None = strawberry.field(
        default=None, description="Only these levels."
    )
    boost_basis_points: int | None = strawberry.field(
        default=None,
        description="A partner product offer: what its product adds to the customer's cashback "
        "percentage while the partner reports it active (100 = +1 %); null: none.",
    )
    boost_days: int | None = strawberry.field(
        default=None,
        description="The boost lasts this many days after the product's activation; null: "
        "until the partner reports it deactivated.",
    )
    translations: Translations = translations_field()


@strawberry.input(description="Offer fields to change; omitted fields stay.")
class OfferUpdateInput:
    id: strawberry.ID = strawberry.field(description="Global id of the offer.")
    title: str | None = strawberry.UNSET
    description: str | None = strawberry.UNSET
    terms: str | None = strawberry.UNSET
    reward_points: int | None = strawberry.UNSET
    reward_percent_basis_points: int | None = strawberry.UNSET
    reward_cap: int | None = strawberry.UNSET
    valid_to: datetime | None = strawberry.UNSET
    per_customer_limit: int | None = strawberry.UNSET
    budget: int | None = strawberry.UNSET
    cities: list[str] | None = strawberry.UNSET
    levels: list[LevelCode] | None = strawberry.UNSET
    boost_basis_points: int | None = strawberry.UNSET
    boost_days: int | None = strawberry.UNSET
    active: bool | None = strawberry.UNSET
    translations: Translations = translations_change()


describe_changes(OfferUpdateInput, OfferCreateInput)


@strawberry.type(description="Result of an offer mutation.")
class OfferPayload:
    offer: Offer | None = strawberry.field(description="The offer now.")
    user_errors: list[PartnerUserError] = strawberry.field(description="Empty on success.")


@strawberry.type(description="Result of `offerCreate`.")
class OfferCreatePayload(OfferPayload):
    pass


@strawberry.type(description="Result of `offerUpdate`.")
class OfferUpdatePayload(OfferPayload):
    pass


A = TypeVar("A", bound=OfferActivationPayload)
P = TypeVar("P", bound=PartnerPayload)
OfferP = TypeVar("OfferP", bound=OfferPayload)


@strawberry.input(description="Which partner's secret to replace.")
class PartnerSecretRotateInput:
    code: str = strawberry.field(description="The partner's code.")


_RENAMED = {
    "reward_percent_basis_points": "reward_percent_bp",
    "boost_basis_points": "boost_bp",
}


def _given(values: Any, model: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    return given_fields(values, model=model, skip=skip, renamed=_RENAMED)


@strawberry.type
class PartnerMutations:
    @strawberry.mutation(description="The signed-in customer activates an offer.")
    async def offer_activate(
        self, info: strawberry.Info[Context, None], input: OfferActivateInput
    ) -> OfferActivatePayload:
        return await _activation(info.context, input.offer_id, OfferActivatePayload, activate=True)

    @strawberry.mutation(description="The signed-in customer deactivates an offer.")
    async def offer_deactivate(
        self, info: strawberry.Info[Context, None], input: OfferDeactivateInput
    ) -> OfferDeactivatePayload:
        return await _activation(
            info.context, input.offer_id, OfferDeactivatePayload, activate=False
        )

    @strawberry.mutation(description="Staff (role `admin`): add a partner; returns its secret.")
    async def partner_create(
        self, info: strawberry.Info[Context, None], input: PartnerCreateInput
    ) -> PartnerCreatePayload:
        info.context.require_role(Role.ADMIN)
        draft = PartnerDraft(**_given(input, models.Partner))
        return await _partner(info.context, lambda s: s.create_partner(draft), PartnerCreatePayload)

    @strawberry.mutation(description="Staff (role `marketing`): change a partner.")
    async def partner_update(
        self, info: strawberry.Info[Context, None], input: PartnerUpdateInput
    ) -> PartnerUpdatePayload:
        info.context.require_role(Role.MARKETING)
        changes = _given(input, models.Partner, skip=("code",))

        async def update(service: PartnerService) -> tuple[Any, None]:
            return await service.update_partner(input.code, changes), None

        payload = await _partner(info.context, update, PartnerUpdatePayload)
        info.context.request.app.state.partners.forget(input.code)
        return payload

    @strawberry.mutation(
        description="Staff (role `admin`): replace a partner's signing secret; every server "
        "stops accepting the old one within 10 seconds."
    )
    async def partner_secret_rotate(
        self,
        info: strawberry.Info[Context, None],
        input: PartnerSecretRotateInput,
    ) -> PartnerSecretRotatePayload:
        info.context.require_role(Role.ADMIN)
        payload = await _partner(
            info.context, lambda s: s.rotate_secret(input.code), PartnerSecretRotatePayload
        )
        info.context.request.app.state.partners.forget(input.code)  # others: within 10 s
        return payload

    @strawberry.mutation(description="Staff (role `marketing`): add an offer.")
    async def offer_create(
        self, info: strawberry.Info[Context, None], input: OfferCreateInput
    ) -> OfferCreatePayload:
        info.context.require_role(Role.MARKETING)
        draft = OfferDraft(**_given(input, models.Offer, skip=("partner_code",)))
        return await _offer(
            info.context, lambda s: s.create_offer(input.partner_code, draft), OfferCreatePayload
        )

    @strawberry.mutation(description="Staff (role `marketing`): change an offer.")
    async def offer_update(
        self, info: strawberry.Info[Context, None], input: OfferUpdateInput
    ) -> OfferUpdatePayload:
        info.context.require_role(Role.MARKETING)
        offer_id = decode_typed_id(input.id, "Offer")
        changes = _given(input, models.Offer, skip=("id",))

        async def update(service: PartnerService) -> Any:
            if offer_id is None:
                raise NotFound(field=("id",))
            return await service.update_offer(offer_id, changes)

        payload = await _offer(info.context, update, OfferUpdatePayload)
        if offer_id is not None:  # other processes: within 10 s (see PartnerDirectory)
            info.context.request.app.state.partners.forget_offer(offer_id)
        return payload


async def _activation(context: Context, global_id: str, payload: type[A], *, activate: bool) -> A:
    customer_id = await context.require_customer()
    offer_id = decode_typed_id(global_id, "Offer")
    if offer_id is None:
        raise NotFound(field=("offerId",))
    async with context.db.unit_of_work() as session:
        service = ActivationService(session)
        action = service.activate if activate else service.deactivate
        row = await action(customer_id, offer_id)
        offer = await service.repository.offer(offer_id)
    assert offer is not None
    return payload(
        offer=await offer_view(context, offer),
        activation=OfferActivation.from_model(row),
        user_errors=[],
    )


async def _partner(context: Context, action: Any, payload: type[P]) -> P:
    async with context.db.unit_of_work() as session:
        partner, secret = await action(PartnerService(session, context.secret_box))
    return payload(
        partner=Partner.from_model(partner, context.locale), secret=secret, user_errors=[]
    )


async def _offer(context: Context, action: Any, payload: type[OfferP]) -> OfferP:
    async with context.db.unit_of_work() as session:
        offer = await action(PartnerService(session, context.secret_box))
    return payload(offer=await offer_view(context, offer), user_errors=[])
