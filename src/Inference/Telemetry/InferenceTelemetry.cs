using System.Diagnostics;

namespace SegServe.Inference.Telemetry;

/// <summary>
/// The engine's traces on the <c>SegServe.Inference</c> activity source (System.Diagnostics only: the host decides what
/// listens and where spans go). A request's stages are its spans, measured by <see cref="Pipeline.StageTimer"/> and
/// recorded once each stage has ended; a model run is a span of its own, linked to the requests that shared it.
/// </summary>
public static class InferenceTelemetry
{
    public const string SourceName = "SegServe.Inference";

    public const string DecodeSpan = "segserve.decode";
    public const string PreprocessSpan = "segserve.preprocess";
    public const string QueueSpan = "segserve.queue";
    public const string InferenceSpan = "segserve.inference";
    public const string PostprocessSpan = "segserve.postprocess";
    public const string EncodeSpan = "segserve.encode";

    /// <summary>One model run: a batch of requests.</summary>
    public const string BatchSpan = "segserve.batch";

    public const string ModelTag = "segserve.model";
    public const string BatchSizeTag = "segserve.batch.size";
    public const string ProviderTag = "segserve.provider";

    /// <summary>On a request's inference span: the span id of the batch it ran in (the span is also linked to it).</summary>
    public const string BatchSpanIdTag = "segserve.batch.span_id";

    public static readonly ActivitySource Source = new(SourceName);

    /// <summary>Whether anything listens to <see cref="Source"/> (when nothing does, no span is made).</summary>
    public static bool HasListeners => Source.HasListeners();

    /// <summary>Records a stage that has already ended as a child of <paramref name="parent"/>.</summary>
    internal static void Stage(string name, ActivityContext parent, DateTimeOffset start, TimeSpan duration) =>
        End(Begin(name, parent, start, null, null), start + duration);

    /// <summary>Records a request's share of a model run: the run's span, tagged with the model, batch size and provider, and linked to the batch.</summary>
    internal static void Inference(ActivityContext parent, DateTimeOffset start, TimeSpan duration, string model, int batchSize, string? provider, ActivityContext batch)
    {
        ActivityLink[]? links = batch == default ? null : [new ActivityLink(batch)];
        Activity? span = Begin(InferenceSpan, parent, start, links, null);
        if (span is not null)
        {
            span.SetTag(ModelTag, model);
            span.SetTag(BatchSizeTag, batchSize);
            span.SetTag(ProviderTag, provider);
            if (batch != default)
            {
                span.SetTag(BatchSpanIdTag, batch.SpanId.ToHexString());
            }
        }

        End(span, start + duration);
    }

    /// <summary>
    /// Starts the span of one model run as a root (never a child of whatever started the queue), linked to the spans of
    /// the requests it serves; null when nobody listens.
    /// </summary>
    internal static Activity? StartBatch(string model, int size, IReadOnlyList<ActivityContext> requests, DateTimeOffset start)
    {
        var links = new List<ActivityLink>(requests.Count);
        for (int i = 0; i < requests.Count; i++)
        {
            if (requests[i] != default)
            {
                links.Add(new ActivityLink(requests[i]));
            }
        }

        Activity.Current = null;
        Activity? span = Source.StartActivity(BatchSpan, ActivityKind.Internal, default(ActivityContext), null, links, start);
        span?.SetTag(ModelTag, model);
        span?.SetTag(BatchSizeTag, size);
        return span;
    }

    /// <summary>Ends a batch's span at the end of its run, as an error if the run failed.</summary>
    internal static void EndBatch(Activity? span, DateTimeOffset end, string? failure)
    {
        if (span is null)
        {
            return;
        }

        if (failure is not null)
        {
            span.SetStatus(ActivityStatusCode.Error, failure);
        }

        span.SetEndTime(end.UtcDateTime);
        span.Stop();
    }

    private static Activity? Begin(string name, ActivityContext parent, DateTimeOffset start, IEnumerable<ActivityLink>? links, IEnumerable<KeyValuePair<string, object?>>? tags)
    {
        // Starting a span makes it current, and stopping one started with an explicit parent clears Current: keep the
        // caller's own current span as it was.
        Activity? current = Activity.Current;
        Activity? span = Source.StartActivity(name, ActivityKind.Internal, parent, tags, links, start);
        Activity.Current = current;
        return span;
    }

    private static void End(Activity? span, DateTimeOffset end)
    {
        if (span is null)
        {
            return;
        }

        Activity? current = Activity.Current;
        span.SetEndTime(end.UtcDateTime);
        span.Stop();
        Activity.Current = current;
    }
}
