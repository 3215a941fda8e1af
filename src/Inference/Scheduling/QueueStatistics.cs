namespace SegServe.Inference.Scheduling;

/// <summary>A snapshot of one queue since start: what the batch-size distribution and outcomes actually were.</summary>
/// <param name="Depth">Requests waiting now.</param>
/// <param name="InFlightBatches">Model runs in progress now.</param>
/// <param name="Outcomes">Items by outcome (ok, rejected, expired, cancelled, failed).</param>
/// <param name="BatchSizes">Number of model runs per batch size: index = size (index 0 unused).</param>
/// <param name="MeanQueueWaitMs">Mean wait of items that ran.</param>
/// <param name="MeanRunMs">Mean duration of a model run.</param>
public sealed record QueueStatistics(
    int Depth,
    int InFlightBatches,
    IReadOnlyDictionary<string, long> Outcomes,
    IReadOnlyList<long> BatchSizes,
    double MeanQueueWaitMs,
    double MeanRunMs)
{
    /// <summary>Model runs in all.</summary>
    public long Runs => Sum(static (_, count) => count);

    /// <summary>Requests per model run; 0 before the first run.</summary>
    public double MeanBatchSize
    {
        get
        {
            long runs = Runs;
            return runs == 0 ? 0 : (double)Sum(static (size, count) => size * count) / runs;
        }
    }

    /// <summary>The batch sizes that occurred, with their run counts, smallest first.</summary>
    public IReadOnlyList<(int Size, long Runs)> Distribution()
    {
        var sizes = new List<(int, long)>();
        for (int size = 1; size < BatchSizes.Count; size++)
        {
            if (BatchSizes[size] > 0)
            {
                sizes.Add((size, BatchSizes[size]));
            }
        }

        return sizes;
    }

    private long Sum(Func<int, long, long> term)
    {
        long sum = 0;
        for (int size = 1; size < BatchSizes.Count; size++)
        {
            sum += term(size, BatchSizes[size]);
        }

        return sum;
    }
}
