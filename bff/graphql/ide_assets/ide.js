// GraphiQL for /graphql, from files this service ships (it works without a network).
// #query=...&headers=... (JSON) prefill the editors (after "#": a GET of /graphql with a
// `query` parameter runs it); the headers tab is where `Authorization: Bearer <token>` goes.
(function () {
  var params = new URLSearchParams(window.location.hash.slice(1));
  var fetcher = GraphiQL.createFetcher({ url: window.location.pathname });
  var root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: params.get("query") || undefined,
      headers: params.get("headers") || undefined,
      defaultEditorToolsVisibility: params.has("headers") ? "headers" : true,
      shouldPersistHeaders: true,
    })
  );
})();
