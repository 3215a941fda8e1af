using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace SegServe.Api.Problems;

/// <summary>
/// The one error path: every exception a request raises becomes the problem+json that <see cref="ProblemCatalog"/>
/// describes, with <c>Retry-After</c> where waiting helps. Faults (500s) are logged in full; unexpected ones are answered
/// without their text: the response carries the trace id, never a type name, path or stack trace.
/// </summary>
internal sealed partial class ProblemExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        Problem problem = ProblemCatalog.Describe(exception);
        if (problem.Kind.Status == StatusCodes.Status500InternalServerError)
        {
            LogFailure(httpContext.Request.Method, httpContext.Request.Path, exception);
        }

        if (httpContext.Response.HasStarted)
        {
            return false;
        }

        httpContext.Response.StatusCode = problem.Kind.Status;
        if (problem.RetryAfter is TimeSpan retryAfter)
        {
            httpContext.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
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

        details.Extensions["traceId"] = System.Diagnostics.Activity.Current?.Id ?? httpContext.TraceIdentifier;
        bool written = await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = details,
            Exception = exception,
        }).ConfigureAwait(false);
        if (!written)
        {
            // The problem writer declines when the Accept header rules JSON out (a 406 for "Accept: image/jpeg" is
            // exactly that case); the problem is still the answer, as application/problem+json.
            await TypedResults.Problem(details).ExecuteAsync(httpContext).ConfigureAwait(false);
        }

        return true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed.")]
    private partial void LogFailure(string method, string path, Exception exception);
}
