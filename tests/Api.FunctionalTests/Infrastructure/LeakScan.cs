using System.Collections.Concurrent;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace SegServe.Api.FunctionalTests.Infrastructure;

/// <summary>
/// Scans every response of every test host — headers, and bodies that are text (JSON, problem+json, plain text) — for
/// what must never reach a client: absolute file-system paths and the shapes of stack traces and exception type names.
/// Findings are collected here; <see cref="LeakReport"/> fails the run if there are any, and the middleware also turns
/// the offending response into a 599 so that the test that made the request fails on the spot.
/// </summary>
public static partial class LeakScan
{
    public const int LeakStatus = 599;

    private static readonly ConcurrentQueue<string> s_findings = new();

    /// <summary>Everything found so far, as "request: what".</summary>
    public static IReadOnlyCollection<string> Findings => s_findings;

    /// <summary>What in <paramref name="text"/> looks internal; null when nothing does.</summary>
    public static string? Find(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        foreach (string directory in KnownDirectories())
        {
            if (text.Contains(directory, StringComparison.Ordinal))
            {
                return $"the directory {directory}";
            }
        }

        Match match = InternalShape().Match(text);
        return match.Success ? $"'{match.Value}'" : null;
    }

    /// <summary>
    /// The Prometheus exposition without the labels that name exception types by design — OpenTelemetry's
    /// <c>error.type</c> and ASP.NET Core's exception-handler type on <c>aspnetcore_diagnostics_exceptions_total</c>:
    /// operators' data on the operators' endpoint (a port of its own, or behind a key). Paths and stack traces
    /// anywhere else in it are still leaks.
    /// </summary>
    public static string WithoutExceptionTypeLabels(string exposition) => ExceptionTypeLabel().Replace(exposition, "$1=\"\"");

    [GeneratedRegex(@"\b(error_type|aspnetcore_diagnostics_handler_type)=""[^""]*""")]
    private static partial Regex ExceptionTypeLabel();

    internal static void Record(string request, string finding) => s_findings.Enqueue($"{request}: {finding}");

    // The directories this test run really uses: the test binaries, the checkout, shared/, the temporary folders.
    private static IEnumerable<string> KnownDirectories()
    {
        yield return Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory);
        yield return Path.TrimEndingDirectorySeparator(Path.GetTempPath());
        if (SharedData.Root is string shared)
        {
            yield return Path.TrimEndingDirectorySeparator(shared);
        }

        string home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (home.Length > 1)
        {
            yield return home + "/";
        }
    }

    // Absolute paths under the usual roots (two segments at least, not URL paths of this API), Windows drive paths,
    // stack-trace lines ("   at Ns.Type.Method(", "--- End of stack trace", ".cs:line 12") and namespaced exception names.
    [GeneratedRegex(@"(?<![\w:/.-])/(?:tmp|root|home|work|usr|opt|var|proc|etc|srv|mnt|app|build|src)/[^\s""']+|\b[A-Za-z]:\\[^\s""']+|\bat [\w.`<>\[\]]+\.[\w<>`]+\(|--- End of (?:inner exception )?stack trace|\.cs:line \d+|\b(?:System|Microsoft|SegServe)(?:\.\w+)+(?:Exception|\.\w+\(\))")]
    private static partial Regex InternalShape();
}

/// <summary>Puts the leak scan in front of the service's own pipeline, so that it sees exactly what a client receives.</summary>
internal sealed class LeakScanStartupFilter : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(static async (context, following) =>
        {
            Stream original = context.Response.Body;
            using var buffer = new MemoryStream();
            context.Response.Body = buffer;
            try
            {
                await following(context);
            }
            finally
            {
                context.Response.Body = original;
            }

            string request = $"{context.Request.Method} {context.Request.Path}{context.Request.QueryString}";
            string? finding = null;
            foreach ((string name, Microsoft.Extensions.Primitives.StringValues values) in context.Response.Headers)
            {
                finding ??= LeakScan.Find($"{name}: {values}");
            }

            string? mediaType = context.Response.ContentType?.Split(';')[0].Trim();
            if (finding is null && mediaType is "application/json" or "application/problem+json" or "text/plain")
            {
                string body = Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
                finding = LeakScan.Find(context.Request.Path.StartsWithSegments("/metrics") ? LeakScan.WithoutExceptionTypeLabels(body) : body);
            }

            if (finding is not null)
            {
                LeakScan.Record(request, finding);
                context.Response.StatusCode = LeakScan.LeakStatus;
                context.Response.ContentType = "text/plain";
                context.Response.ContentLength = null;
                await context.Response.WriteAsync($"LEAK in the response to {request}: {finding}");
                return;
            }

            buffer.Position = 0;
            await buffer.CopyToAsync(original, context.RequestAborted);
        });
        next(app);
    };
}

/// <summary>Fails the test run if any response of any test leaked something internal.</summary>
public sealed class LeakReport : IAsyncDisposable
{
    public ValueTask DisposeAsync()
    {
        return LeakScan.Findings.Count == 0
            ? ValueTask.CompletedTask
            : throw new InvalidOperationException($"{LeakScan.Findings.Count} responses leaked internals:\n{string.Join("\n", LeakScan.Findings.Take(20))}");
    }
}
