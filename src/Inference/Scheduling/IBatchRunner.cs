namespace SegServe.Inference.Scheduling;

/// <summary>Runs one batch of same-shaped inputs: the model behind an <see cref="DynamicBatcher"/>.</summary>
public interface IBatchRunner
{
    /// <summary>
    /// Runs the inputs (each of <paramref name="itemShape"/>, without the batch axis) as one batch and returns one
    /// output per input, in the same order. Throws if the run fails: the queue fails that batch's items only.
    /// </summary>
    public ModelOutput[] RunBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, long[] itemShape);
}
