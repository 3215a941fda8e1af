using SegServe.Api.Problems;
using SegServe.Inference.Evaluation;

namespace SegServe.Api.Evaluations;

/// <summary>An evaluation run's settings, and who owns it (the API key that created it, or <c>anonymous</c>).</summary>
public sealed record EvaluationRun(
    string Id,
    string Task,
    DateTimeOffset Created,
    int NumClasses,
    int IgnoreIndex,
    IReadOnlyList<string>? ClassNames,
    string? Model,
    string? Palette,
    string Owner = "anonymous");

/// <summary>
/// A stored sample: its summary and its payload — a semantic sample's summed counts (<see cref="SemanticAccumulator.ToSparse"/>),
/// or an instance sample's ground truth and detections (<see cref="InstanceSamples"/>).
/// </summary>
public sealed record StoredSample(string Name, long Pixels, double? PixelAccuracy, double? MeanIou, byte[] Payload, double? Ap = null);

/// <summary>The quotas a publish is checked against, under the owner's lock.</summary>
/// <param name="MaxSamplesPerRun">Most samples one run may hold.</param>
/// <param name="MaxStoredBytesPerOwner">Most bytes of samples the runs of one owner may hold.</param>
public readonly record struct SampleQuotas(int MaxSamplesPerRun, long MaxStoredBytesPerOwner);

/// <summary>
/// Where evaluation runs live: the service's only state. Several service instances may share one store (PostgreSQL),
/// so every check that reads and then writes — the runs an owner may create, the samples a run may hold, the bytes an
/// owner may store — is made inside the store, serialised per owner, and not by the caller between two calls.
/// </summary>
public interface IEvaluationStore
{
    /// <summary>Which store this is, for logs and health reports (<c>sqlite</c> or <c>postgresql</c>).</summary>
    public string Kind { get; }

    /// <summary>Creates the run, unless its owner already has <paramref name="maxRunsPerOwner"/> runs.</summary>
    /// <returns>The run as stored (its creation time at the store's precision).</returns>
    /// <exception cref="QuotaExceededException">The owner has as many runs as it may.</exception>
    public Task<EvaluationRun> CreateAsync(EvaluationRun run, int maxRunsPerOwner, CancellationToken cancellationToken);

    /// <summary>The run, or null when there is none with that id.</summary>
    public Task<EvaluationRun?> GetAsync(string id, CancellationToken cancellationToken);

    /// <summary>Deletes the run and all its samples, staged ones included.</summary>
    /// <returns>Whether there was such a run.</returns>
    public Task<bool> DeleteAsync(string id, CancellationToken cancellationToken);

    /// <summary>How many runs <paramref name="owner"/> has.</summary>
    public Task<long> CountRunsAsync(string owner, CancellationToken cancellationToken);

    /// <summary>The bytes of stored samples (published or staged) in the runs of <paramref name="owner"/>.</summary>
    public Task<long> StoredBytesAsync(string owner, CancellationToken cancellationToken);

    /// <summary>How many published samples the run has.</summary>
    public Task<int> CountSamplesAsync(string runId, CancellationToken cancellationToken);

    /// <summary>Stages one sample of <paramref name="batch"/>: stored, but not part of the run until the batch is published.</summary>
    /// <exception cref="EvaluationRunNotFoundException">The run was deleted meanwhile.</exception>
    public Task StageAsync(string runId, string batch, StoredSample sample, CancellationToken cancellationToken);

    /// <summary>
    /// Makes every staged sample of <paramref name="batch"/> part of its run at once, if the run still exists and the
    /// quotas hold with them; otherwise nothing changes (the caller discards the batch).
    /// </summary>
    /// <returns>How many samples the run has now.</returns>
    /// <exception cref="QuotaExceededException">The run would hold too many samples, or its owner too many bytes.</exception>
    /// <exception cref="EvaluationRunNotFoundException">The run was deleted meanwhile.</exception>
    public Task<int> PublishAsync(EvaluationRun run, string batch, SampleQuotas quotas, CancellationToken cancellationToken);

    /// <summary>Removes the staged samples of a batch that failed.</summary>
    public Task DiscardAsync(string batch, CancellationToken cancellationToken);

    /// <summary>
    /// The run's published samples in the order they were added, and the sum of their counts (null without samples).
    /// Semantic samples' counts are added up as they are read and not kept; instance samples keep their payloads
    /// (AP is computed over all of them together).
    /// </summary>
    public Task<(List<StoredSample> Samples, SemanticAccumulator? Sums)> LoadSamplesAsync(EvaluationRun run, CancellationToken cancellationToken);

    /// <summary>Throws unless the store answers (its schema migrated first, on the first call): the readiness probe.</summary>
    public Task CheckAsync(CancellationToken cancellationToken);
}
