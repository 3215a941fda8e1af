using System.Globalization;
using Microsoft.AspNetCore.Mvc;
using SegServe.Api.Hosting;

namespace SegServe.Api.Problems;

/// <summary>
/// Writes a <see cref="Problem"/> as problem+json: the one way every part of the host answers with an error, and so the
/// one place that logs why a request was refused (one line each) and counts it.
/// </summary>
internal static partial class ProblemWriter
{
    /// <summary>The log category of the refusals.</summary>
    public const string LogCategory = "SegServe.Api.Problems";

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
        Record(context, problem.Kind, problem.Detail, problem.Extensions?.GetValueOrDefault("parameter") as string);
        IProblemDetailsService service = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        bool written = await service.TryWriteAsync(new ProblemDetailsContext { HttpContext = context, ProblemDetails = details, Exception = exception }).ConfigureAwait(false);
        if (!written)
        {
            // The problem writer declines when the Accept header rules JSON out (a 406 for "Accept: image/jpeg" is
            // exactly that case); the problem is still the answer, as application/problem+json.
            await TypedResults.Problem(details).ExecuteAsync(context).ConfigureAwait(false);
        }
    }

    /// <summary>The reason of a problem as a metric tag and log field: the last segment of its type URN.</summary>
    public static string Reason(ProblemKind kind)
    {
        ArgumentNullException.ThrowIfNull(kind);
        int colon = kind.Type.LastIndexOf(':');
        return colon >= 0 ? kind.Type[(colon + 1)..] : kind.Type;
    }

    /// <summary>One structured line per refused request (status, reason, route, parameter, detail, all bounded) and the count by reason.</summary>
    internal static void Record(HttpContext context, ProblemKind kind, string detail, string? parameter)
    {
        // The exception handler runs with the endpoint cleared: the failed request's endpoint is in its feature.
        Endpoint? endpoint = context.GetEndpoint() ?? context.Features.Get<Microsoft.AspNetCore.Diagnostics.IExceptionHandlerFeature>()?.Endpoint;
        string route = (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? "(none)";
        string reason = Reason(kind);
        context.RequestServices.GetService<ApiMetrics>()?.Rejected(reason, kind.Status, route);

        ILogger logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(LogCategory);
        detail = ProblemCatalog.Shorten(detail, ProblemCatalog.MaxEcho);
        if (kind.Status == StatusCodes.Status500InternalServerError)
        {
            // A fault, not a refusal: the exception handler logs it in full (with the exception), once.
            return;
        }

        if (kind.Status > StatusCodes.Status500InternalServerError)
        {
            LogFailed(logger, context.Request.Method, route, kind.Status, reason, parameter, detail);
        }
        else
        {
            LogRefused(logger, context.Request.Method, route, kind.Status, reason, parameter, detail);
        }
    }

    [LoggerMessage(EventId = 4000, EventName = "RequestRefused", Level = LogLevel.Information,
        Message = "{Method} {Route} refused: {Status} {Reason} (parameter {Parameter}): {Detail}")]
    private static partial void LogRefused(ILogger logger, string method, string route, int status, string reason, string? parameter, string detail);

    [LoggerMessage(EventId = 5000, EventName = "RequestFailed", Level = LogLevel.Warning,
        Message = "{Method} {Route} not served: {Status} {Reason} (parameter {Parameter}): {Detail}")]
    private static partial void LogFailed(ILogger logger, string method, string route, int status, string reason, string? parameter, string detail);
}
