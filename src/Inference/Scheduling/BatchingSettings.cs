namespace SegServe.Inference.Scheduling;

/// <summary>How one model's queue forms batches (the manifest's <c>batching</c> section, with configured overrides).</summary>
/// <param name="MaxBatchSize">Largest batch; 1 turns batching off (models without a batch axis always run one at a time).</param>
/// <param name="MaxQueueDelay">How long the oldest item may wait for a fuller batch; zero sends what is there at once.</param>
/// <param name="QueueCapacity">Items that may wait; beyond it requests are rejected at once.</param>
/// <param name="Instances">Runs of this model in flight at once.</param>
public sealed record BatchingSettings(int MaxBatchSize, TimeSpan MaxQueueDelay, int QueueCapacity, int Instances)
{
    /// <summary>Checks the ranges; throws <see cref="ArgumentOutOfRangeException"/> naming the setting.</summary>
    public BatchingSettings Validated()
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxBatchSize, 1, nameof(MaxBatchSize));
        ArgumentOutOfRangeException.ThrowIfLessThan(QueueCapacity, 1, nameof(QueueCapacity));
        ArgumentOutOfRangeException.ThrowIfLessThan(Instances, 1, nameof(Instances));
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueueDelay, TimeSpan.Zero, nameof(MaxQueueDelay));
        return this;
    }
}
