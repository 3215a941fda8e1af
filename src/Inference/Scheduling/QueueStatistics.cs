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
    double MeanRunMs);
