namespace SegServe.Api.Hosting.OpenApi;

/// <summary>
/// Swagger UI fills every query parameter's <c>default</c> or <c>example</c> into the Try-it-out form (swagger-ui
/// issue 5776) and sends them all; this service refuses a parameter that does not apply to the model's task or to the
/// chosen <c>effect</c>, so an untouched form would always be answered 400. This request interceptor drops each query
/// value that still equals what the document pre-filled — a default changes nothing when left out, and an example is
/// only a suggestion — so that the request carries only what the user chose. Any failure leaves the request as it was.
/// </summary>
internal static class TryItOutPrefill
{
    // One line, with no backslash or quote marks (strings are template literals): Swashbuckle embeds it in a JSON
    // text inside a single-quoted script string, where a newline or an escape would break Swagger UI's start.
    public static readonly string RequestInterceptor = string.Join(' ',
        "(request) => { try {",
        "const spec = window.ui && window.ui.specSelectors.specJson().toJS();",
        "if (!spec || !spec.paths) { return request; }",
        "const url = new URL(request.url, window.location.href);",
        "const method = (request.method || `get`).toLowerCase();",
        "const path = url.pathname.split(`/`);",
        "for (const [template, item] of Object.entries(spec.paths)) {",
        "const parts = template.split(`/`); const operation = item[method];",
        "if (!operation || parts.length !== path.length || parts.some((p, i) => p.startsWith(`{`) ? path[i] === `` : p !== path[i])) { continue; }",
        "for (const parameter of operation.parameters || []) {",
        "const schema = parameter.schema || {};",
        "const prefilled = schema.default !== undefined ? schema.default : schema.example;",
        "if (parameter.in !== `query` || prefilled === undefined) { continue; }",
        "const text = Array.isArray(prefilled) ? prefilled.join(`,`) : String(prefilled);",
        "if (url.searchParams.get(parameter.name) === text) { url.searchParams.delete(parameter.name); } }",
        "request.url = url.toString(); break; }",
        "} catch (e) { console.warn(`SegServe: pre-filled parameters left as they are`, e); }",
        "return request; }");
}
