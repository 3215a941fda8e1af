using Microsoft.AspNetCore.Http.HttpResults;
using SegServe.Inference.Models;

namespace SegServe.Api.Endpoints;

/// <summary>Liveness and readiness probes for orchestrators.</summary>
public static class HealthEndpoints
{
    public static RouteGroupBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder health = app.MapGroup("/health").WithTags("Health");

        health.MapGet("/live", static () => TypedResults.Ok(new HealthReport("alive", [])))
            .WithName("Live")
            .WithSummary("Liveness: the process answers.");

        health.MapGet("/ready", Ready)
            .WithName("Ready")
            .WithSummary("Readiness: at least one model is ready and none is still loading (503 otherwise).");

        return health;
    }

    /// <summary>Readiness of the service and of each model.</summary>
    public static Results<Ok<HealthReport>, JsonHttpResult<HealthReport>> Ready(ModelRepository repository)
    {
        var models = new List<ModelHealth>();
        bool anyReady = false, anyLoading = false;
        foreach (SegmentationModel model in repository.Models)
        {
            anyReady |= model.Status == ModelStatus.Ready;
            anyLoading |= model.Status == ModelStatus.Loading;
            models.Add(new ModelHealth(model.Name, ContractMapping.EnumText(model.Status), model.FailureReason));
        }

        bool ready = repository.IsLoaded && anyReady && !anyLoading;
        var report = new HealthReport(ready ? "ready" : "not-ready", models);
        return ready ? TypedResults.Ok(report) : TypedResults.Json(report, statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>Health of the service.</summary>
    /// <param name="Status"><c>alive</c>, <c>ready</c> or <c>not-ready</c>.</param>
    /// <param name="Models">Each model's status.</param>
    public sealed record HealthReport(string Status, IReadOnlyList<ModelHealth> Models);

    /// <summary>Health of one model.</summary>
    /// <param name="Name">Model name.</param>
    /// <param name="Status"><c>ready</c>, <c>loading</c> or <c>failed</c>.</param>
    /// <param name="FailureReason">Why it failed, if it did.</param>
    public sealed record ModelHealth(string Name, string Status, string? FailureReason);
}
