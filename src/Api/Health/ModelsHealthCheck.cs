using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using SegServe.Api.Mapping;
using SegServe.Contracts;
using HealthReport = SegServe.Contracts.HealthReport;
using SegServe.Inference.Models;

namespace SegServe.Api.Health;

/// <summary>Settings of the health probes, bound from the <c>Health</c> section.</summary>
public sealed class HealthOptions
{
    public const string SectionName = "Health";

    /// <summary>
    /// The models readiness waits for. Empty (the default): every model that has not failed, and at least one model.
    /// Named: exactly these, each of which must be ready (a failed or missing one keeps the service not ready).
    /// </summary>
    public List<string> RequiredModels { get; set; } = [];
}

/// <summary>
/// Readiness: healthy once every required model is ready. Its data is the <see cref="Contracts.HealthReport"/> the
/// probe returns, with each model's state — loading (and how far), ready, or failed with the reason.
/// </summary>
internal sealed class ModelsHealthCheck(IModelRegistry registry, IOptions<HealthOptions> options) : IHealthCheck
{
    public const string ReportKey = "report";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        List<string> configured = options.Value.RequiredModels;
        var models = new List<ModelHealth>();
        bool anyReady = false, requiredReady = true;
        foreach (SegmentationModel model in registry.Models)
        {
            ModelState state = model.State;
            bool required = configured.Count > 0 ? configured.Contains(model.Name, StringComparer.Ordinal) : state.Status != ModelStatus.Failed;
            anyReady |= state.Status == ModelStatus.Ready;
            requiredReady &= !required || state.Status == ModelStatus.Ready;
            models.Add(new ModelHealth(
                model.Name,
                ModelMapping.EnumText(state.Status),
                required,
                state.FailureReason,
                state.Status == ModelStatus.Loading ? ModelMapping.ToProgress(state) : null));
        }

        foreach (string name in configured)
        {
            if (!registry.TryGet(name, out _))
            {
                requiredReady = false;
                models.Add(new ModelHealth(name, "missing", true, $"No folder of the models directory is named '{name}'.", null));
            }
        }

        bool ready = requiredReady && anyReady;
        var report = new HealthReport(ready ? "ready" : "not-ready", models);
        var data = new Dictionary<string, object> { [ReportKey] = report };
        return Task.FromResult(ready
            ? HealthCheckResult.Healthy("Every required model is ready.", data)
            : HealthCheckResult.Unhealthy(anyReady ? "A required model is not ready." : "No model is ready.", data: data));
    }
}
