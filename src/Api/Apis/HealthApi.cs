using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SegServe.Api.Health;
using HealthCheckReport = Microsoft.Extensions.Diagnostics.HealthChecks.HealthReport;
using HealthReport = SegServe.Contracts.HealthReport;

namespace SegServe.Api.Apis;

/// <summary>Liveness and readiness probes for orchestrators, answered by the registered health checks.</summary>
public static class HealthApi
{
    public const string LiveTag = "live";
    public const string ReadyTag = "ready";
    public const string ShutdownCheck = "shutdown";

    public static RouteGroupBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder health = app.MapGroup("/health").WithTags("Health");
        if (app.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Security.ApiKeyOptions>>().Value.ProtectHealth)
        {
            health.RequireAuthorization(Security.Roles.UserPolicy);
        }

        health.MapGet("/live", Live)
            .WithName("Live")
            .WithSummary("Liveness: whether the process serves at all")
            .WithDescription("200 from the moment the service listens, while models still load: restart the container only when this fails. "
                + "Anonymous unless Authentication:ProtectHealth is set.");

        health.MapGet("/ready", Ready)
            .WithName("Ready")
            .WithSummary("Readiness: whether to send this instance traffic")
            .WithDescription("200 once every required model is ready and the evaluation store answers; 503 before, with each model's state (loading and how far, ready, failed with the reason), "
                + "and 503 shutting-down from the moment the service drains. Both answers carry the same health report.")
            .Produces<HealthReport>(StatusCodes.Status503ServiceUnavailable);

        return health;
    }

    // Liveness.
    public static async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> Live(HealthCheckService checks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checks);
        HealthCheckReport report = await checks.CheckHealthAsync(static c => c.Tags.Contains(LiveTag), cancellationToken);
        var body = new HealthReport(report.Status == HealthStatus.Healthy ? "alive" : "not-alive", []);
        return report.Status == HealthStatus.Healthy ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    // Readiness of the service and of each model.
    public static async Task<Results<Ok<HealthReport>, JsonHttpResult<HealthReport>>> Ready(HealthCheckService checks, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(checks);
        HealthCheckReport report = await checks.CheckHealthAsync(static c => c.Tags.Contains(ReadyTag), cancellationToken);
        HealthReport body = report.Entries.Values.Select(static e => e.Data.GetValueOrDefault(ModelsHealthCheck.ReportKey)).OfType<HealthReport>().FirstOrDefault()
            ?? new HealthReport(report.Status == HealthStatus.Healthy ? "ready" : "not-ready", []);
        if (report.Entries.TryGetValue(ShutdownCheck, out HealthReportEntry shutdown) && shutdown.Status != HealthStatus.Healthy)
        {
            // Draining: whatever the models' state, this replica takes no more work.
            body = body with { Status = "shutting-down" };
        }
        else if (report.Status != HealthStatus.Healthy)
        {
            body = body with { Status = "not-ready" }; // models may be ready while another check (the evaluation store) is not
        }

        return report.Status == HealthStatus.Healthy ? TypedResults.Ok(body) : TypedResults.Json(body, statusCode: StatusCodes.Status503ServiceUnavailable);
    }
}
