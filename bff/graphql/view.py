"""Strawberry's ASGI view with our context and GraphQL-over-HTTP status codes."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import orjson
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.base import BaseRequestProtocol
from strawberry.types import ExecutionResult

from bff.graphql.caching import with_etag
from bff.graphql.context import Context, build_context
from bff.graphql.extensions import error_code
from bff.graphql.ide import ide_page
from bff.kernel.auth import InvalidToken
from bff.kernel.errors import MalformedInput, refuse_nul
from bff.persisted.service import PersistedQueries, PersistedQueryError

GRAPHQL_RESPONSE = "application/graphql-response+json"


def wants_graphql_response(request: Request) -> bool:
    return GRAPHQL_RESPONSE in request.headers.get("accept", "")


def is_request_error(result: ExecutionResult) -> bool:
    """Parse or validation failure: nothing executed, so no error has a path."""
    return (
        result.data is None
        and bool(result.errors)
        and all(error.path is None for error in result.errors or [])
    )


def _ensure_error_codes(result: ExecutionResult, data: GraphQLHTTPResponse) -> None:
    # A parse error raised inside ParserCache skips the operation hooks, so the error
    # policy never saw it: give such errors their code here.
    formatted_errors: list[dict[str, Any]] = data.get("errors") or []  # type: ignore[assignment]
    for error, formatted in zip(result.errors or [], formatted_errors, strict=False):
        formatted.setdefault("extensions", {}).setdefault("code", error_code(error))


def token_refused(error: InvalidToken) -> ExecutionResult:
    """A request whose bearer token failed verification is not run: answering it as
    anonymous would leave the app unable to tell that it must refresh or sign in."""
    extensions = {"code": "UNAUTHENTICATED", "reason": error.problem.value}
    return ExecutionResult(data=None, errors=[GraphQLError(str(error), extensions=extensions)])


def refused(error: PersistedQueryError) -> ExecutionResult:
    """A request that is not run: it has no data, like a validation failure."""
    return ExecutionResult(
        data=None, errors=[GraphQLError(str(error), extensions={"code": error.code})]
    )


_SUGGESTION = re.compile(r" Did you mean .*\?$", re.DOTALL)


def hide_suggestions(errors: list[GraphQLError]) -> None:
    """Drop graphql-core's "Did you mean ...?" from every error (unknown fields,
    arguments, types, enum values, input fields)."""
    for error in errors:
        error.message = _SUGGESTION.sub("", error.message)


def by_document_id(request: dict[str, Any]) -> dict[str, Any]:
    """A persisted document asked for by ``documentId`` (graphql-codegen's clients, the
    GraphQL-over-HTTP persisted documents draft: ``"sha256:<hash>"`` or the bare hash), as
    the persisted query it is."""
    document_id = request.pop("documentId")
    if not isinstance(document_id, str) or "query" in request:
        raise HTTPException(400, "`documentId` must be a string, and comes without `query`")
    persisted = {"version": 1, "sha256Hash": document_id.removeprefix("sha256:")}
    extensions = request.get("extensions")
    if extensions is not None and not isinstance(extensions, dict):
        raise HTTPException(400, "`extensions` must be an object")
    request["extensions"] = {**(extensions or {}), "persistedQuery": persisted}
    return request


class GraphQLView(GraphQL[Context, None]):
    async def execute_single(
        self,
        request: Request,
        request_adapter: AsyncHTTPRequestAdapter,
        sub_response: Response,
        context: Context,
        root_value: None,
        request_data: GraphQLRequestData,
    ) -> ExecutionResult:
        """Run the document the request names (persisted queries) and mark GETs by hash
        for HTTP caching."""
        if context.token_refused is not None:
            request.state.token_refused = context.token_refused
            return token_refused(context.token_refused)
        persisted: PersistedQueries = request.app.state.persisted
        try:
            resolved = await persisted.resolve(request_data.query, request_data.extensions)
        except PersistedQueryError as error:
            return refused(error)
        result = await super().execute_single(
            request,
            request_adapter,
            sub_response,
            context,
            root_value,
            replace(request_data, query=resolved.document),
        )
        if resolved.register and not is_request_error(result):
            await persisted.remember(resolved, request_data.operation_name)
        if resolved.by_hash and request_adapter.method == "GET" and not result.errors:
            request.state.etag_for = request.headers.get("if-none-match")
        return result

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def decode_json(self, data: str | bytes) -> object:
        return orjson.loads(data)

    def parse_json(self, data: str | bytes) -> Any:
        """JSON that must be an object, a list or null (strawberry checks the rest)."""
        parsed = super().parse_json(data)
        if not isinstance(parsed, dict | list | None):
            raise HTTPException(400, "A JSON object was expected")
        if isinstance(parsed, dict) and not isinstance(parsed.get("operationName"), str | None):
            raise HTTPException(400, "The GraphQL operation's `operationName` must be a string")
        try:
            refuse_nul(parsed)
        except MalformedInput as error:
            raise HTTPException(400, f"`{error.field}` must not contain NUL characters") from error
        if isinstance(parsed, dict) and "documentId" in parsed:
            return by_document_id(parsed)
        return parsed

    async def parse_http_body(
        self, request: AsyncHTTPRequestAdapter
    ) -> GraphQLRequestData | list[GraphQLRequestData]:
        """A body of ``null`` is a 400 too: strawberry would call ``.get`` on it. (Told
        by its bytes: parsing every POST body twice to find it would cost each request.)"""
        is_json = request.method != "GET" and "json" in (request.content_type or "")
        if is_json and (await request.get_body()).strip() == b"null":
            raise HTTPException(400, "A JSON object was expected")
        return await super().parse_http_body(request)

    def should_render_graphql_ide(self, request: BaseRequestProtocol) -> bool:
        # A GET by hash has no `query` either, and apps send it with `Accept: */*`.
        has_extensions = request.query_params.get("extensions") is not None
        return not has_extensions and super().should_render_graphql_ide(request)

    async def render_graphql_ide(self, request: Request) -> Response:
        return ide_page(request.app.state.ide_assets)

    async def get_context(self, request: Request | WebSocket, response: Any) -> Context:
        assert isinstance(request, Request), "subscriptions are not served"
        return await build_context(request, response)

    async def process_result(
        self, request: Request, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        if result.errors and not request.app.state.settings.field_suggestions_enabled:
            hide_suggestions(result.errors)
        data = await super().process_result(request, result)
        _ensure_error_codes(result, data)
        if wants_graphql_response(request):
            request.state.graphql_response = True
            if is_request_error(result):
                # GraphQL over HTTP: a request that never executed has no "data" key.
                data.pop("data", None)
                request.state.graphql_status = 400
        return data

    def create_response(
        self,
        response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse],
        sub_response: Response,
    ) -> Response:
        response = super().create_response(response_data, sub_response)
        state = getattr(sub_response, "request_state", None)
        if state is None:
            return response
        if getattr(state, "graphql_response", False):
            response.headers["content-type"] = f"{GRAPHQL_RESPONSE}; charset=utf-8"
            response.status_code = getattr(state, "graphql_status", response.status_code)
        if (refusal := getattr(state, "token_refused", None)) is not None:
            response.status_code = 401
            # RFC 6750: the client's cue to refresh its token or sign in again.
            response.headers["www-authenticate"] = (
                f'Bearer error="invalid_token", error_description="{refusal.problem.value}"'
            )
            return response
        if hasattr(state, "etag_for") and response.status_code == 200:
            return with_etag(response, state.etag_for, private=state.authorized)
        return response

    async def get_sub_response(self, request: Request | WebSocket) -> Response:
        sub_response = await super().get_sub_response(request)
        sub_response.request_state = request.state  # type: ignore[attr-defined]
        request.state.authorized = "authorization" in request.headers
        return sub_response
