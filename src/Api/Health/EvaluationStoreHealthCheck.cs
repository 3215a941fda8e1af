using System.Data.Common;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SegServe.Api.Evaluations;

namespace SegServe.Api.Health;

/// <summary>
/// Readiness: the evaluation store answers a <c>SELECT 1</c> (its schema migrated on the first call). A replica whose
/// database is unreachable would fail every evaluation request, so it leaves the rotation until the database is back.
/// </summary>
internal sealed class EvaluationStoreHealthCheck(IEvaluationStore store) : IHealthCheck
{
    /// <summary>How long the probe waits for the store: less than a typical probe's own timeout.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await store.CheckAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy($"The evaluation store ({store.Kind}) answers.");
        }
        catch (Exception e) when (e is DbException or TimeoutException or System.Net.Sockets.SocketException)
        {
            return HealthCheckResult.Unhealthy($"The evaluation store ({store.Kind}) is unreachable: {e.Message}", e);
        }
    }
}
