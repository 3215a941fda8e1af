namespace SegServe.Contracts;

/// <summary>Health of the service (<c>/health/live</c>, <c>/health/ready</c>).</summary>
/// <param name="Status"><c>alive</c> (liveness), <c>ready</c>, <c>not-ready</c> or <c>shutting-down</c> (readiness).</param>
/// <param name="Models">Each model's state; empty for liveness.</param>
public sealed record HealthReport(string Status, IReadOnlyList<ModelHealth> Models);

/// <summary>Health of one model.</summary>
/// <param name="Name">Model name.</param>
/// <param name="Status"><c>loading</c>, <c>ready</c> or <c>failed</c>.</param>
/// <param name="Required">Whether readiness waits for this model (configured, or by default every model that has not failed).</param>
/// <param name="FailureReason">Why it failed, if it did.</param>
/// <param name="Loading">While it loads: how far it has got.</param>
public sealed record ModelHealth(string Name, string Status, bool Required, string? FailureReason, ModelLoadProgress? Loading);
