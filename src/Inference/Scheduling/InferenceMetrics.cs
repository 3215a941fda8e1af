using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace SegServe.Inference.Scheduling;

/// <summary>What became of a queued item.</summary>
public enum ItemOutcome
{
    /// <summary>Ran and returned a result.</summary>
    Ok,

    /// <summary>Refused at the door: the queue was full.</summary>
    Rejected,

    /// <summary>Its deadline passed in the queue.</summary>
    Expired,

    /// <summary>Its caller went away while it waited.</summary>
    Cancelled,

    /// <summary>Its batch failed.</summary>
    Failed,
}

/// <summary>
/// The queues' instruments on the <c>SegServe.Inference</c> meter (exported by OpenTelemetry or read with
/// <c>dotnet-counters</c>): queue depth, queue wait, batch size, run time, and items by outcome, tagged by model.
/// </summary>
public sealed class InferenceMetrics : IDisposable
{
    public const string MeterName = "SegServe.Inference";

    private readonly Meter _meter;
    private readonly Counter<long> _items;
    private readonly Histogram<double> _queueWait;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _runTime;
    private readonly ConcurrentDictionary<string, DynamicBatcher> _queues = new(StringComparer.Ordinal);
    private Func<IEnumerable<Models.SegmentationModel>>? _models;

    public InferenceMetrics(IMeterFactory meterFactory)
    {
        ArgumentNullException.ThrowIfNull(meterFactory);
        _meter = meterFactory.Create(MeterName);
        _items = _meter.CreateCounter<long>("segserve.queue.items", "{item}", "Queued requests by outcome: ok, rejected, expired, cancelled, failed.");
        _queueWait = _meter.CreateHistogram<double>("segserve.queue.wait", "ms", "Time from entering the queue to the start of the model run.");
        _batchSize = _meter.CreateHistogram<int>(
            "segserve.batch.size",
            "{item}",
            "Requests per model run.",
            tags: null,
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128] });
        _runTime = _meter.CreateHistogram<double>("segserve.batch.duration", "ms", "Duration of one model run (one batch).");
        _meter.CreateObservableGauge("segserve.queue.depth", ObserveDepth, "{item}", "Requests waiting in the queue.");
        _meter.CreateObservableGauge(
            "segserve.model.info",
            ObserveModels,
            "{model}",
            "1 for each model, tagged with its status (loading, ready, failed) and the execution provider that runs it (CPU, CUDA; none before it opens).");
    }

    /// <summary>The models <c>segserve.model.info</c> reports: a dashboard shows which provider runs which model from it.</summary>
    internal void ObserveModels(Func<IEnumerable<Models.SegmentationModel>> models) => _models = models;

    internal void Register(DynamicBatcher queue) => _queues[queue.Model] = queue;

    internal void Unregister(DynamicBatcher queue) => _queues.TryRemove(queue.Model, out _);

    internal void Item(string model, ItemOutcome outcome) =>
        _items.Add(1, new KeyValuePair<string, object?>("model", model), new KeyValuePair<string, object?>("outcome", OutcomeText(outcome)));

    internal void QueueWait(string model, TimeSpan wait) =>
        _queueWait.Record(wait.TotalMilliseconds, new KeyValuePair<string, object?>("model", model));

    internal void Batch(string model, int size, TimeSpan runTime)
    {
        var tag = new KeyValuePair<string, object?>("model", model);
        _batchSize.Record(size, tag);
        _runTime.Record(runTime.TotalMilliseconds, tag);
    }

    public void Dispose() => _meter.Dispose();

    public static string OutcomeText(ItemOutcome outcome) => outcome switch
    {
        ItemOutcome.Ok => "ok",
        ItemOutcome.Rejected => "rejected",
        ItemOutcome.Expired => "expired",
        ItemOutcome.Cancelled => "cancelled",
        _ => "failed",
    };

    private IEnumerable<Measurement<int>> ObserveModels()
    {
        if (_models is null)
        {
            yield break;
        }

        foreach (Models.SegmentationModel model in _models())
        {
            yield return new Measurement<int>(
                1,
                new KeyValuePair<string, object?>("model", model.Name),
                new KeyValuePair<string, object?>("provider", model.Provider?.Name ?? "none"),
                new KeyValuePair<string, object?>("status", model.State.Status switch
                {
                    Models.ModelStatus.Ready => "ready",
                    Models.ModelStatus.Loading => "loading",
                    _ => "failed",
                }));
        }
    }

    private IEnumerable<Measurement<int>> ObserveDepth()
    {
        foreach (DynamicBatcher queue in _queues.Values)
        {
            yield return new Measurement<int>(queue.Depth, new KeyValuePair<string, object?>("model", queue.Model));
        }
    }
}
