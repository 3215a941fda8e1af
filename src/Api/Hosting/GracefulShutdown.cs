using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using SegServe.Api.Problems;

namespace SegServe.Api.Hosting;

/// <summary>
/// Drains the service when the host stops (SIGTERM, Ctrl+C): readiness turns 503 at once, new requests are refused
/// with 503 <c>shutting-down</c> and <c>Retry-After</c>, and the requests already admitted — queued, in a batch, or
/// still uploading — finish, for up to <see cref="ServerOptions.ShutdownDrainSeconds"/>. Only then do the hosted
/// services stop: the drain runs in <see cref="IHostedLifecycleService.StoppingAsync"/>, which the host awaits before
/// any service's <c>StopAsync</c>, so Kestrel still listens (and answers the refusals) and the batch queues still run
/// while it waits. Kestrel's own wait for open requests is the second line, within the host's shutdown timeout.
/// </summary>
public sealed partial class GracefulShutdown(IOptions<ServerOptions> options, TimeProvider timeProvider, ILogger<GracefulShutdown> logger)
    : IHostedLifecycleService, IHealthCheck
{
    private readonly TimeProvider _time = timeProvider;

    // What a refused client is told: another replica can take the request at once, this one is about to go.
    private static readonly TimeSpan s_retryAfter = TimeSpan.FromSeconds(1);

    // How long a refused request's body is read before the refusal is sent anyway.
    private static readonly TimeSpan s_discardBodyFor = TimeSpan.FromSeconds(5);

    private readonly TaskCompletionSource _idle = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _inFlight;
    private volatile bool _draining;

    public bool IsDraining => _draining;

    /// <summary>Requests admitted and not yet answered.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    /// <summary>Admits a request unless the service drains; an admitted request must be <see cref="Leave">left</see>.</summary>
    public bool TryEnter()
    {
        // Count first, then look: a request that counts itself before the drain begins is waited for; one that sees
        // the drain has begun takes itself back out.
        Interlocked.Increment(ref _inFlight);
        if (!_draining)
        {
            return true;
        }

        Leave();
        return false;
    }

    public void Leave()
    {
        if (Interlocked.Decrement(ref _inFlight) == 0 && _draining)
        {
            _idle.TrySetResult();
        }
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        int open = InFlight;
        if (open == 0)
        {
            _idle.TrySetResult();
        }

        TimeSpan grace = TimeSpan.FromSeconds(options.Value.ShutdownDrainSeconds);
        LogDraining(logger, open, grace.TotalSeconds);
        long started = _time.GetTimestamp();
        try
        {
            await _idle.Task.WaitAsync(grace, _time, cancellationToken).ConfigureAwait(false);
            LogDrained(logger, _time.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (TimeoutException)
        {
            LogDrainTimedOut(logger, InFlight, grace.TotalSeconds);
        }
        catch (OperationCanceledException)
        {
            LogDrainTimedOut(logger, InFlight, grace.TotalSeconds);
        }
    }

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(_draining ? HealthCheckResult.Unhealthy("The service is shutting down.") : HealthCheckResult.Healthy("The service admits requests."));

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Refuses requests once the drain begins, and counts the admitted ones; probes and metrics pass uncounted.</summary>
    internal static IApplicationBuilder UseGracefulShutdown(IApplicationBuilder app)
    {
        GracefulShutdown shutdown = app.ApplicationServices.GetRequiredService<GracefulShutdown>();
        return app.Use(async (context, next) =>
        {
            PathString path = context.Request.Path;
            if (path.StartsWithSegments("/health", StringComparison.OrdinalIgnoreCase) || path.StartsWithSegments("/metrics", StringComparison.OrdinalIgnoreCase))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            if (!shutdown.TryEnter())
            {
                // A client still sending its body would see its upload cut off, not this answer: read what it sends
                // first. Keep-alive would bring the client back to a process that is about to exit.
                await DiscardBodyAsync(context, shutdown._time).ConfigureAwait(false);
                context.Response.Headers.Connection = "close";
                await ProblemWriter.WriteAsync(
                    context,
                    new Problem(ProblemCatalog.ShuttingDown, "The service is shutting down; send the request again (to another replica).", s_retryAfter)).ConfigureAwait(false);
                return;
            }

            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                shutdown.Leave();
            }
        });
    }

    // Within the endpoint's body limit (applied before this middleware) and a few seconds; what is not read by then
    // is cut off with the connection.
    private static async Task DiscardBodyAsync(HttpContext context, TimeProvider time)
    {
        using var deadline = new CancellationTokenSource(s_discardBodyFor, time);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token, context.RequestAborted);
        try
        {
            await context.Request.Body.CopyToAsync(Stream.Null, stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or BadHttpRequestException or IOException)
        {
            // Too large, too slow or gone: the refusal goes out regardless.
        }
    }

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Shutting down: refusing new requests, draining {InFlight} admitted requests for up to {GraceSeconds} s")]
    private static partial void LogDraining(ILogger logger, int inFlight, double graceSeconds);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Information, Message = "Drained: every admitted request answered after {ElapsedMilliseconds} ms")]
    private static partial void LogDrained(ILogger logger, double elapsedMilliseconds);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Drain grace of {GraceSeconds} s over with {InFlight} requests still open; stopping anyway")]
    private static partial void LogDrainTimedOut(ILogger logger, int inFlight, double graceSeconds);
}
