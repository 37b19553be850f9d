"""The server-to-server API, described for its callers (OpenAPI 3.1), served at
/api/openapi.json: partners (signed with their own secret) and the ordering system and
tills (signed with BFF_ORDERS_HMAC_SECRET)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

SIGNED: list[dict[str, list[str]]] = [{"timestamp": [], "signature": []}]


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


def _json(schema: str) -> dict[str, Any]:
    return {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
    }


def _statement(kind: str, about: str) -> dict[str, Any]:
    """A signed GET (over the empty body) of one of the partner's statements."""
    return {
        "summary": f"What became of the {kind} this partner sent, oldest first, by pages",
        "description": about,
        "parameters": [PARTNER, *STATEMENT_QUERY],
        "responses": {
            "200": {
                "description": "A page; `next` is the `after` of the next page, null on the last.",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": [kind, "next"],
                            "properties": {
                                kind: {"type": "array", "items": {"type": "object"}},
                                "next": {"type": ["string", "null"]},
                            },
                        }
                    }
                },
            },
            **COMMON_ERRORS,
        },
    }


PARTNER = {"name": "partner_code", "in": "path", "required": True, "schema": {"type": "string"}}
HOLD = {"name": "hold_id", "in": "path", "required": True, "schema": {"type": "integer"}}
STATEMENT_QUERY = [
    {
        "name": "after",
        "in": "query",
        "description": "The `next` of the previous page.",
        "schema": {"type": "integer", "minimum": 0},
    },
    {
        "name": "limit",
        "in": "query",
        "description": "Page size, 100 by default.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 500},
    },
    {
        "name": "since",
        "in": "query",
        "description": "Only what was received (events) or made (holds) from this time.",
        "schema": {"type": "string", "format": "date-time"},
    },
    {
        "name": "until",
        "in": "query",
        "description": "...and before this time.",
        "schema": {"type": "string", "format": "date-time"},
    },
]
COMMON_ERRORS = {
    "400": _error("Malformed body; `field` names the culprit."),
    "401": _error("Bad signature, or X-Timestamp more than 5 minutes away."),
    "404": _error("Unknown or inactive partner, customer or hold."),
}

DOCUMENT: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "loyalty-bff server-to-server API",
        "version": "1.0",
        "description": (
            "Partners report completed offers and take points as payment; the ordering "
            "system reports orders, reads levels and quotes checkouts. Every request is "
            "signed: `X-Timestamp` is unix seconds and `X-Signature` is `sha256=` followed "
            'by the hex HMAC-SHA256 of `timestamp + "." + body`, with the partner\'s own '
            "secret on its routes and with the ordering system's on the others. Requests "
            "more than 5 minutes old or early are refused. Event ids are unique per "
            "sender: a repeated id is answered `duplicate` and has no second effect."
        ),
    },
    "components": {
        "securitySchemes": {
            "timestamp": {"type": "apiKey", "in": "header", "name": "X-Timestamp"},
            "signature": {"type": "apiKey", "in": "header", "name": "X-Signature"},
        },
        "schemas": {
            "Error": {
                "type": "object",
                "required": ["error"],
                "properties": {
                    "error": {
                        "type": "object",
                        "required": ["code", "message"],
                        "properties": {
                            "code": {"type": "string"},
                            "message": {"type": "string"},
                            "field": {"type": "string"},
                        },
                    }
                },
            },
            "Event": {
                "type": "object",
                "required": ["id", "type"],
                "properties": {
                    "id": {"type": "string", "maxLength": 128},
                    "type": {
                        "enum": [
                            "offer.completed",
                            "offer.reversed",
                            "product.activated",
                            "product.deactivated",
                        ],
                        "description": "product.*: the customer's partner product (a card, a "
                        "tariff, a policy) changed state; an offer with a cashback boost "
                        "raises their percentage while it is active.",
                    },
                    "customer_id": {
                        "type": "string",
                        "description": "offer.completed and product.*",
                    },
                    "offer_id": {"type": "string", "description": "The offer's id from GraphQL."},
                    "amount": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "Kopecks; required by percentage offers.",
                    },
                    "occurred_at": {"type": "string", "format": "date-time"},
                    "refers_to": {"type": "string", "description": "offer.reversed: event id"},
                },
            },
            "Batch": {
                "type": "object",
                "required": ["events"],
                "properties": {
                    "events": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 1000,
                        "items": {"$ref": "#/components/schemas/Event"},
                    }
                },
            },
            "Result": {
                "type": "object",
                "required": ["id", "status", "points"],
                "properties": {
                    "id": {"type": ["string", "null"]},
                    "status": {
                        "enum": ["accrued", "applied", "ignored", "rejected", "duplicate"],
                        "description": "ignored: a product event older than the one applied.",
                    },
                    "points": {"type": "integer"},
                    "code": {
                        "type": "string",
                        "description": (
                            "Why rejected: UNKNOWN_OFFER, NOT_ACTIVATED, OFFER_NOT_STARTED, "
                            "OFFER_EXPIRED, OFFER_INACTIVE, LIMIT_REACHED, BUDGET_EXHAUSTED, "
                            "AMOUNT_REQUIRED, NOTHING_EARNED, UNKNOWN_EVENT, ALREADY_REVERSED, "
                            "NOT_ACCRUED, MALFORMED"
                        ),
                    },
                    "field": {"type": "string"},
                },
            },
            "HoldRequest": {
                "type": "object",
                "required": ["customer_id", "amount", "idempotency_key"],
                "properties": {
                    "customer_id": {"type": "string"},
                    "amount": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "Kopecks to pay in points",
                    },
                    "idempotency_key": {"type": "string"},
                },
            },
            "QuoteRequest": {
                "type": "object",
                "description": "The customer by `customer_id`, or by the `checkout_code` "
                "the app showed (valid a minute; a payment spends it, a quote only reads it).",
                "required": ["brand", "order"],
                "properties": {
                    "customer_id": {"type": "string", "minLength": 1, "maxLength": 255},
                    "checkout_code": {"type": "string", "minLength": 1, "maxLength": 512},
                    "brand": {"type": "string", "minLength": 1, "maxLength": 64},
                    "city": {"type": "string", "minLength": 1, "maxLength": 64},
                    "order": {
                        "type": "object",
                        "required": ["id", "amount"],
                        "properties": {
                            "id": {"type": "string", "minLength": 1, "maxLength": 128},
                            "amount": {
                                "type": "integer",
                                "minimum": 1,
                                "description": "Kopecks.",
                            },
                        },
                    },
                },
            },
            "CheckoutHoldRequest": {
                "allOf": [
                    {"$ref": "#/components/schemas/QuoteRequest"},
                    {
                        "type": "object",
                        "required": ["points", "idempotency_key"],
                        "properties": {
                            "points": {"type": "integer", "minimum": 1},
                            "idempotency_key": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 255,
                            },
                        },
                    },
                ]
            },
            "RefundRequest": {
                "type": "object",
                "required": ["amount", "idempotency_key"],
                "properties": {
                    "amount": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "Kopecks to give back, at the partner's rate.",
                    },
                    "idempotency_key": {"type": "string", "minLength": 1, "maxLength": 255},
                },
            },
            "CaptureRequest": {
                "type": "object",
                "properties": {
                    "amount": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "Kopecks; omit for all",
                    }
                },
            },
            "CheckoutCaptureRequest": {
                "type": "object",
                "properties": {
                    "points": {
                        "type": "integer",
                        "minimum": 1,
                        "description": "Points to take, at most those held; omit for all",
                    }
                },
            },
            "Hold": {
                "type": "object",
                "properties": {
                    "hold_id": {"type": "integer"},
                    "status": {"type": "string"},
                    "points": {"type": "integer"},
                    "covered_amount": {"type": "integer"},
                    "captured_points": {"type": "integer"},
                    "captured_amount": {"type": "integer"},
                    "expires_at": {"type": "string", "format": "date-time"},
                    "replayed": {"type": "boolean"},
                },
            },
        },
    },
    "security": SIGNED,
    "paths": {
        "/api/orders/events": {
            "post": {
                "summary": "Report an order completed, cancelled or refunded, or a gift "
                "confirmed or cancelled (the ordering system)",
                "description": (
                    "`{id, type: order.completed | order.cancelled | order.refunded, order: "
                    "{id, brand, customer_id, amount, completed_at, city?, items?}, refund?: "
                    "{amount}}` or `{id, type: redemption.confirmed | redemption.cancelled, "
                    "redemption: {id}}`. Amounts are kopecks; an id seen before is answered "
                    "`duplicate`."
                ),
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {
                    "200": {"description": "`{status: applied | ignored | duplicate, ...}`"},
                    "422": _error(
                        "ORDER_NOT_FOUND, REFUND_EXCEEDS_ORDER, ACCRUAL_OVER_LIMIT, "
                        "HOLD_NOT_ACTIVE, HOLD_EXPIRED, NOT_FOUND"
                    ),
                    "400": COMMON_ERRORS["400"],
                    "401": COMMON_ERRORS["401"],
                },
            }
        },
        "/api/customers/{external_id}/level": {
            "get": {
                "summary": "A customer's level and perks (the ordering system)",
                "description": "Signed over the empty body.",
                "parameters": [
                    {
                        "name": "external_id",
                        "in": "path",
                        "required": True,
                        "schema": {"type": "string"},
                    }
                ],
                "responses": {
                    "200": {
                        "description": "`{customer_id, level, perks, cashback_bonus_bp, "
                        "completed_orders}`"
                    },
                    "401": COMMON_ERRORS["401"],
                    "404": _error("CUSTOMER_NOT_FOUND"),
                },
            }
        },
        "/api/checkout/holds": {
            "post": {
                "summary": "Hold points to pay part of an order, at most what the quote "
                "allows, once per idempotency key (the ordering system or a till)",
                "description": (
                    "`order.completed` with `order.points_hold_id` captures them, and the "
                    "order then earns on the part paid in money only; `order.refunded` "
                    "gives back the points' share in proportion, `order.cancelled` all of "
                    "them (or, before the order completed, releases them); unresolved, the "
                    "hold expires."
                ),
                "requestBody": _json("CheckoutHoldRequest"),
                "responses": {
                    "201": {"description": "`{hold_id, order_id, points, value, expires_at}`"},
                    "200": {"description": "A retry with the same idempotency key"},
                    "400": COMMON_ERRORS["400"],
                    "401": COMMON_ERRORS["401"],
                    "404": _error("CUSTOMER_NOT_FOUND"),
                    "422": _error("OVER_SPENDABLE, INSUFFICIENT_FUNDS, IDEMPOTENCY_CONFLICT"),
                },
            }
        },
        "/api/checkout/holds/{hold_id}/capture": {
            "post": {
                "summary": "Take all or part of a checkout hold; the rest goes back",
                "description": (
                    "For an order that settles without an `order.completed` naming the "
                    "hold; when that event comes later, it finds the points taken and "
                    "earns on the rest of the order. A second capture is refused."
                ),
                "parameters": [HOLD],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/CheckoutCaptureRequest"}
                        }
                    }
                },
                "responses": {
                    "200": {
                        "description": "`{hold_id, order_id, status, points, value, "
                        "captured_points, captured_value, refunded_points}`"
                    },
                    **COMMON_ERRORS,
                    "422": _error("HOLD_NOT_ACTIVE, HOLD_EXPIRED, CAPTURE_EXCEEDS_HOLD"),
                },
            }
        },
        "/api/checkout/holds/{hold_id}/void": {
            "post": {
                "summary": "Give the held points back: the order is not paid with them",
                "parameters": [HOLD],
                "responses": {
                    "200": {"description": "Voided; the same fields as a capture"},
                    **COMMON_ERRORS,
                    "422": _error("HOLD_NOT_ACTIVE"),
                },
            }
        },
        "/api/checkout/quote": {
            "post": {
                "summary": "How many points may pay an order, what it would earn, what "
                "expires soonest (the ordering system or a till); writes nothing",
                "requestBody": _json("QuoteRequest"),
                "responses": {
                    "200": {
                        "description": "`{order_id, customer_id, currency, available, "
                        "spendable: {points, value, reason}, accruals: [{currency, amount, "
                        "reason}], soonest_expiry: {amount, at} | null}`"
                    },
                    "400": COMMON_ERRORS["400"],
                    "401": COMMON_ERRORS["401"],
                    "404": _error("CUSTOMER_NOT_FOUND"),
                },
            }
        },
        "/api/partners/{partner_code}/events": {
            "post": {
                "summary": "Report one event, or a batch of up to 1,000",
                "parameters": [PARTNER],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "oneOf": [
                                    {"$ref": "#/components/schemas/Event"},
                                    {"$ref": "#/components/schemas/Batch"},
                                ]
                            }
                        }
                    },
                },
                "responses": {
                    "200": {
                        "description": "A result, or `{results: [...]}` in event order.",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/Result"},
                                        {
                                            "type": "object",
                                            "properties": {
                                                "results": {
                                                    "type": "array",
                                                    "items": {
                                                        "$ref": "#/components/schemas/Result"
                                                    },
                                                }
                                            },
                                        },
                                    ]
                                }
                            }
                        },
                    },
                    **COMMON_ERRORS,
                },
            },
            "get": _statement(
                "events",
                "Each stored event with its status (accrued, applied, rejected) and reason, "
                "the customer, offer, amount, points and shortfall.",
            ),
        },
        "/api/partners/{partner_code}/holds": {
            "get": _statement(
                "holds",
                "Each hold with its status, points held and captured (and their value in "
                "kopecks), the customer, and when it was made, expires and was resolved.",
            ),
            "post": {
                "summary": "Reserve points as payment (the partner's rate turns kopecks to points)",
                "parameters": [PARTNER],
                "requestBody": _json("HoldRequest"),
                "responses": {
                    "201": {
                        "description": "Reserved",
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Hold"}}
                        },
                    },
                    "200": {"description": "A retry with the same idempotency key"},
                    "409": _error("This partner does not take points."),
                    "422": _error("INSUFFICIENT_FUNDS, IDEMPOTENCY_CONFLICT, AMOUNT_TOO_SMALL"),
                    **COMMON_ERRORS,
                },
            },
        },
        "/api/partners/{partner_code}/holds/{hold_id}/capture": {
            "post": {
                "summary": "Take all or part of a hold; the rest is released",
                "parameters": [PARTNER, HOLD],
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/CaptureRequest"}
                        }
                    }
                },
                "responses": {
                    "200": {"description": "Captured"},
                    "422": _error("HOLD_NOT_ACTIVE, HOLD_EXPIRED, CAPTURE_EXCEEDS_HOLD"),
                    **COMMON_ERRORS,
                },
            }
        },
        "/api/partners/{partner_code}/holds/{hold_id}/refund": {
            "post": {
                "summary": "Give back part or all of a captured payment, once per key",
                "description": (
                    "Never more than was captured, in all. The points come back with the "
                    "expiry of the points they were paid with, or 30 days from now where "
                    "that has passed."
                ),
                "parameters": [PARTNER, HOLD],
                "requestBody": _json("RefundRequest"),
                "responses": {
                    "200": {"description": "Refunded (or a retry with the same key)"},
                    "422": _error(
                        "HOLD_NOT_CAPTURED, REFUND_EXCEEDS_CAPTURE, IDEMPOTENCY_CONFLICT, "
                        "AMOUNT_TOO_SMALL"
                    ),
                    **COMMON_ERRORS,
                },
            }
        },
        "/api/partners/{partner_code}/holds/{hold_id}/void": {
            "post": {
                "summary": "Release a hold",
                "parameters": [PARTNER, HOLD],
                "responses": {
                    "200": {"description": "Voided"},
                    "422": _error("HOLD_NOT_ACTIVE"),
                    **COMMON_ERRORS,
                },
            }
        },
    },
}


async def openapi_document(_request: Request) -> JSONResponse:
    return JSONResponse(DOCUMENT)
