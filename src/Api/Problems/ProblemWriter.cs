using System.Globalization;
using Microsoft.AspNetCore.Mvc;

namespace SegServe.Api.Problems;

/// <summary>Writes a <see cref="Problem"/> as problem+json: the one way every part of the host answers with an error.</summary>
internal static class ProblemWriter
{
    public static async Task WriteAsync(HttpContext context, Problem problem, Exception? exception = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(problem);
        context.Response.StatusCode = problem.Kind.Status;
        if (problem.RetryAfter is TimeSpan retryAfter)
        {
            context.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        }

        var details = new ProblemDetails
        {
            Status = problem.Kind.Status,
            Type = problem.Kind.Type,
            Title = problem.Kind.Title,
            Detail = ProblemCatalog.Shorten(problem.Detail, 8 * ProblemCatalog.MaxEcho),
        };
        if (problem.Extensions is not null)
        {
            foreach ((string key, object? value) in problem.Extensions)
            {
                details.Extensions[key] = value;
            }
        }

        details.Extensions["traceId"] = System.Diagnostics.Activity.Current?.Id ?? context.TraceIdentifier;
        IProblemDetailsService service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        bool written = await service.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = details, Exception = exception }).ConfigureAwait(false);
        if (!written)
        {
            // The problem writer declines when the Accept header rules JSON out (a 406 for "Accept: image/jpeg" is
            // exactly that case); the problem is still the answer, as application/problem+json.
            await TypedResults.Problem(details).ExecuteAsync(context).ConfigureAwait(false);
        }
    }
}
