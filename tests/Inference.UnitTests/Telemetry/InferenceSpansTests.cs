using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Time.Testing;
using Microsoft.ML.OnnxRuntime.Tensors;
using SegServe.Inference.Pipeline;
using SegServe.Inference.Scheduling;
using SegServe.Inference.Telemetry;

namespace SegServe.Inference.UnitTests.Telemetry;

/// <summary>
/// The engine's spans, on a fake clock: a stage span lasts exactly what the timer measured and is a child of the span
/// that was current when the timer started; a batch's span is a root linked to every request it served, and each
/// output names it. Spans are told apart from other tests' by their own trace ids.
/// </summary>
public sealed class InferenceSpansTests : IDisposable
{
    private static readonly long[] s_shape = [1];
    private static readonly float[] s_one = [1f];
    private static readonly float[] s_two = [2f];

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));
    private readonly ConcurrentQueue<Activity> _spans = new();
    private readonly ActivityListener _listener;

    public InferenceSpansTests()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = static source => source.Name == InferenceTelemetry.SourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _spans.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public void Dispose() => _listener.Dispose();

    [Fact]
    public void StageSpans_LastWhatTheTimerMeasured_UnderTheCurrentSpan()
    {
        using Activity request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        var timer = new StageTimer(_time);
        _time.Advance(TimeSpan.FromMilliseconds(7));
        timer.EndDecode();
        _time.Advance(TimeSpan.FromMilliseconds(3));
        timer.EndPreprocess();

        // The caller's current span is left as it was.
        Assert.Same(request, Activity.Current);
        Assert.Equal(7, timer.Decode);
        List<Activity> spans = [.. _spans.Where(s => s.TraceId == request.TraceId)];
        Activity decode = Assert.Single(spans, s => s.OperationName == InferenceTelemetry.DecodeSpan);
        Activity preprocess = Assert.Single(spans, s => s.OperationName == InferenceTelemetry.PreprocessSpan);
        Assert.Equal(request.SpanId, decode.ParentSpanId);
        Assert.Equal(request.SpanId, preprocess.ParentSpanId);
        Assert.Equal(TimeSpan.FromMilliseconds(7), decode.Duration);
        Assert.Equal(TimeSpan.FromMilliseconds(3), preprocess.Duration);
        Assert.Equal(new DateTime(2026, 12, 7, 12, 0, 0, 7, DateTimeKind.Utc), preprocess.StartTimeUtc);
        Assert.Equal(decode.StartTimeUtc + decode.Duration, preprocess.StartTimeUtc);
    }

    [Fact]
    public void Timer_WithoutACurrentSpan_MakesNoSpans()
    {
        Activity.Current = null;
        var timer = new StageTimer(_time);
        _time.Advance(TimeSpan.FromMilliseconds(2));
        timer.EndDecode();

        Assert.Equal(2, timer.Decode);
        Assert.DoesNotContain(_spans, s => s.OperationName == InferenceTelemetry.DecodeSpan && s.StartTimeUtc == new DateTime(2026, 12, 7, 12, 0, 0, DateTimeKind.Utc));
    }

    [Fact]
    public async Task Batch_IsARootSpanLinkedToEveryRequest_AndEachRequestsInferenceSpanLinksBack()
    {
        using var batcher = new DynamicBatcher("spans", new EchoRunner(), new BatchingSettings(2, TimeSpan.FromSeconds(1), 8, 1), _time);
        DateTimeOffset deadline = _time.GetUtcNow() + TimeSpan.FromMinutes(1);

        Activity first = new Activity("first").SetIdFormat(ActivityIdFormat.W3C).Start();
        Task<ModelOutput> one = batcher.EnqueueAsync(s_one, s_shape, deadline, CancellationToken.None);
        first.Stop();
        Activity second = new Activity("second").SetIdFormat(ActivityIdFormat.W3C).Start();
        Task<ModelOutput> two = batcher.EnqueueAsync(s_two, s_shape, deadline, CancellationToken.None);
        second.Stop();

        using ModelOutput outputOne = await one.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);
        using ModelOutput outputTwo = await two.WaitAsync(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken);

        Assert.Equal(2, outputOne.BatchSize);
        Assert.Equal(outputOne.BatchActivity, outputTwo.BatchActivity);
        Assert.Equal(_time.GetUtcNow(), outputOne.RunStartedAt);
        Activity batch = await StoppedAsync(s => s.OperationName == InferenceTelemetry.BatchSpan && s.SpanId == outputOne.BatchActivity.SpanId);
        Assert.Equal(default, batch.ParentSpanId);
        Assert.NotEqual(first.TraceId, batch.TraceId);
        Assert.Equal([first.Context, second.Context], batch.Links.Select(static l => l.Context));
        Assert.Equal("spans", batch.GetTagItem(InferenceTelemetry.ModelTag));
        Assert.Equal(2, batch.GetTagItem(InferenceTelemetry.BatchSizeTag));
        Assert.Equal(_time.GetUtcNow().UtcDateTime, batch.StartTimeUtc);

        // The request's side: its queue and inference spans under its own span, the inference span linked to the batch.
        using Activity request = new Activity("request").SetIdFormat(ActivityIdFormat.W3C).Start();
        var timer = new StageTimer(_time);
        timer.AddRun(outputOne, "spans", "CPU");
        request.Stop();
        Activity inference = Assert.Single(_spans, s => s.OperationName == InferenceTelemetry.InferenceSpan && s.TraceId == request.TraceId);
        Assert.Single(_spans, s => s.OperationName == InferenceTelemetry.QueueSpan && s.TraceId == request.TraceId && s.ParentSpanId == request.SpanId);
        Assert.Equal(request.SpanId, inference.ParentSpanId);
        Assert.Equal("CPU", inference.GetTagItem(InferenceTelemetry.ProviderTag));
        Assert.Equal(2, inference.GetTagItem(InferenceTelemetry.BatchSizeTag));
        Assert.Equal(batch.SpanId.ToHexString(), inference.GetTagItem(InferenceTelemetry.BatchSpanIdTag));
        Assert.Equal(batch.Context.SpanId, Assert.Single(inference.Links).Context.SpanId);
    }

    private async Task<Activity> StoppedAsync(Func<Activity, bool> match)
    {
        // The batch's span stops just after its outputs are handed over.
        for (int i = 0; i < 200; i++)
        {
            if (_spans.FirstOrDefault(match) is Activity span)
            {
                return span;
            }

            await Task.Delay(10, TestContext.Current.CancellationToken);
        }

        return Assert.Single(_spans, s => match(s));
    }

    /// <summary>Answers each input with itself.</summary>
    private sealed class EchoRunner : IBatchRunner
    {
        public ModelOutput[] RunBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, long[] itemShape)
        {
            var outputs = new ModelOutput[inputs.Count];
            for (int i = 0; i < outputs.Length; i++)
            {
                outputs[i] = ModelOutput.Copy(inputs[i].Span, TensorElementType.Float, [1, 1]);
            }

            return outputs;
        }
    }
}
