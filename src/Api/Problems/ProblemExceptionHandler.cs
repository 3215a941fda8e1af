using Microsoft.AspNetCore.Diagnostics;

namespace SegServe.Api.Problems;

/// <summary>
/// The one error path: every exception a request raises becomes the problem+json that <see cref="ProblemCatalog"/>
/// describes, with <c>Retry-After</c> where waiting helps. Faults (500s) are logged in full; unexpected ones are answered
/// without their text: the response carries the trace id, never a type name, path or stack trace.
/// </summary>
internal sealed partial class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> logger) : IExceptionHandler
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

        await ProblemWriter.WriteAsync(httpContext, problem, exception).ConfigureAwait(false);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} {Path} failed.")]
    private partial void LogFailure(string method, string path, Exception exception);
}
