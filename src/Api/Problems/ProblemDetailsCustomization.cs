using System.Text.Json;

namespace SegServe.Api.Problems;

/// <summary>
/// Gives the problems the framework writes itself the service's shape: a routing status (no endpoint, wrong method)
/// its type and a detail, and a failed parameter validation the <c>invalid-parameter</c> type with the
/// <c>parameter</c> and <c>value</c> named, as every other invalid parameter has.
/// </summary>
internal static class ProblemDetailsCustomization
{
    public static void Customize(ProblemDetailsContext context)
    {
        Microsoft.AspNetCore.Mvc.ProblemDetails problem = context.ProblemDetails;
        if (problem is HttpValidationProblemDetails validation)
        {
            DescribeValidation(context.HttpContext.Request, validation);
            ProblemWriter.Record(context.HttpContext, ProblemCatalog.InvalidParameter, validation.Detail ?? ProblemCatalog.InvalidParameter.Title, validation.Extensions.TryGetValue("parameter", out object? parameter) ? parameter as string : null);
            return;
        }

        if (problem.Type?.StartsWith("urn:segserve:", StringComparison.Ordinal) == true)
        {
            return;
        }

        // Written without an exception: a status set by routing or by the framework's binding.
        HttpRequest request = context.HttpContext.Request;
        ProblemKind kind = ProblemCatalog.ForStatus(problem.Status ?? context.HttpContext.Response.StatusCode);
        problem.Type = kind.Type;
        problem.Title = kind.Title;
        problem.Detail ??= kind.Status switch
        {
            StatusCodes.Status404NotFound => $"There is no endpoint at {request.Method} {request.Path}; see /swagger.",
            StatusCodes.Status405MethodNotAllowed => $"{request.Path} does not accept {request.Method}; see /swagger.",
            StatusCodes.Status415UnsupportedMediaType => AcceptedContentTypes(context.HttpContext) is { Count: > 0 } accepted
                ? $"{request.Method} {request.Path} takes {string.Join(" or ", accepted)} (got Content-Type '{request.ContentType ?? "none"}')."
                : $"This endpoint does not take Content-Type '{request.ContentType ?? "none"}'; see /swagger.",
            StatusCodes.Status400BadRequest => $"The request to {request.Method} {request.Path} could not be read; see /swagger for what it takes.",
            _ => kind.Title,
        };
        ProblemWriter.Record(context.HttpContext, kind, problem.Detail, null);
    }

    /// <summary>
    /// The request bodies the endpoint at this path and method takes. Routing refuses a Content-Type that no endpoint
    /// accepts with an endpoint of its own, so the accepted types are looked up among the real endpoints.
    /// </summary>
    private static IReadOnlyList<string> AcceptedContentTypes(HttpContext context)
    {
        if (context.RequestServices.GetService<EndpointDataSource>() is not { } endpoints)
        {
            return [];
        }

        foreach (Endpoint endpoint in endpoints.Endpoints)
        {
            if (endpoint is RouteEndpoint route
                && route.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>() is { ContentTypes.Count: > 0 } accepts
                && route.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods.Contains(context.Request.Method, StringComparer.OrdinalIgnoreCase) == true
                && new Microsoft.AspNetCore.Routing.Template.TemplateMatcher(new Microsoft.AspNetCore.Routing.Template.RouteTemplate(route.RoutePattern), []).TryMatch(context.Request.Path, []))
            {
                return accepts.ContentTypes;
            }
        }

        return [];
    }

    private static void DescribeValidation(HttpRequest request, HttpValidationProblemDetails validation)
    {
        // Keys as clients spell them (the query parameter or JSON field), not as the C# property is named.
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach ((string key, string[] messages) in validation.Errors)
        {
            errors[ProblemCatalog.Shorten(JsonNamingPolicy.CamelCase.ConvertName(key), ProblemCatalog.MaxEcho)] =
                [.. messages.Select(static m => ProblemCatalog.Shorten(m, 2 * ProblemCatalog.MaxEcho))];
        }

        validation.Errors = errors;
        validation.Type = ProblemCatalog.InvalidParameter.Type;
        validation.Title = ProblemCatalog.InvalidParameter.Title;
        if (errors.Count == 0)
        {
            return;
        }

        string parameter = errors.Keys.First();
        validation.Detail = ProblemCatalog.Shorten(string.Join(" ", errors.SelectMany(static e => e.Value)), 8 * ProblemCatalog.MaxEcho);
        validation.Extensions["parameter"] = ProblemCatalog.Shorten(parameter, ProblemCatalog.MaxEcho);
        if (request.Query.TryGetValue(parameter, out Microsoft.Extensions.Primitives.StringValues value))
        {
            validation.Extensions["value"] = ProblemCatalog.Shorten(value.ToString(), ProblemCatalog.MaxEcho);
        }
    }
}
