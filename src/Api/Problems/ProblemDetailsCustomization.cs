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
            StatusCodes.Status415UnsupportedMediaType =>
                $"This endpoint does not take Content-Type '{request.ContentType ?? "none"}': send multipart/form-data uploads, or application/json bodies, as /swagger lists.",
            StatusCodes.Status400BadRequest => $"The request to {request.Method} {request.Path} could not be read; see /swagger for what it takes.",
            _ => kind.Title,
        };
    }

    private static void DescribeValidation(HttpRequest request, HttpValidationProblemDetails validation)
    {
        // Keys as clients spell them (the query parameter or JSON field), not as the C# property is named.
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach ((string key, string[] messages) in validation.Errors)
        {
            errors[JsonNamingPolicy.CamelCase.ConvertName(key)] = messages;
        }

        validation.Errors = errors;
        validation.Type = ProblemCatalog.InvalidParameter.Type;
        validation.Title = ProblemCatalog.InvalidParameter.Title;
        if (errors.Count == 0)
        {
            return;
        }

        string parameter = errors.Keys.First();
        validation.Detail = string.Join(" ", errors.SelectMany(static e => e.Value));
        validation.Extensions["parameter"] = parameter;
        if (request.Query.TryGetValue(parameter, out Microsoft.Extensions.Primitives.StringValues value))
        {
            validation.Extensions["value"] = value.ToString();
        }
    }
}
