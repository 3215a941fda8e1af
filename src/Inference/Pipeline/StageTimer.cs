using System.Diagnostics;
using SegServe.Inference.Scheduling;
using SegServe.Inference.Telemetry;

namespace SegServe.Inference.Pipeline;

/// <summary>Milliseconds spent in each stage of one request.</summary>
public sealed record StageDurations(
    double DecodeMs,
    double PreprocessMs,
    double QueueMs,
    double InferenceMs,
    double PostprocessMs,
    double EncodeMs)
{
    public double TotalMs => DecodeMs + PreprocessMs + QueueMs + InferenceMs + PostprocessMs + EncodeMs;
}

/// <summary>
/// Measures consecutive stages with the <see cref="TimeProvider"/>'s high-resolution timestamps. While the request is
/// traced (a span is current when the timer starts and <see cref="InferenceTelemetry.Source"/> has listeners), each
/// stage also becomes a span, a child of the request's span, recorded when the stage ends.
/// </summary>
public sealed class StageTimer
{
    private readonly TimeProvider _time;
    private readonly ActivityContext _request;
    private long _last;

    public StageTimer(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        _time = timeProvider;
        _last = timeProvider.GetTimestamp();
        if (Activity.Current is Activity current && InferenceTelemetry.Source.HasListeners())
        {
            _request = current.Context;
        }
    }

    public double Decode { get; private set; }

    public double Preprocess { get; private set; }

    public double Queue { get; private set; }

    public double Inference { get; private set; }

    public double Postprocess { get; private set; }

    public double Encode { get; private set; }

    private bool Traced => _request != default;

    public void EndDecode() => Decode += Lap(InferenceTelemetry.DecodeSpan);

    public void EndPreprocess() => Preprocess += Lap(InferenceTelemetry.PreprocessSpan);

    public void EndQueue() => Queue += Lap(InferenceTelemetry.QueueSpan);

    public void EndInference() => Inference += Lap(InferenceTelemetry.InferenceSpan);

    public void EndPostprocess() => Postprocess += Lap(InferenceTelemetry.PostprocessSpan);

    public void EndEncode() => Encode += Lap(InferenceTelemetry.EncodeSpan);

    /// <summary>Records the queue wait and model run the batcher measured, and starts the next stage now.</summary>
    public void AddQueueAndInference(TimeSpan queue, TimeSpan inference)
    {
        Queue += queue.TotalMilliseconds;
        Inference += inference.TotalMilliseconds;
        Restart();
    }

    /// <summary>
    /// Records the queue wait and model run of <paramref name="output"/> (and, when traced, their spans: the inference
    /// span names the model, batch size and provider, and links to the batch's span), and starts the next stage now.
    /// </summary>
    public void AddRun(ModelOutput output, string model, string? provider)
    {
        ArgumentNullException.ThrowIfNull(output);
        AddQueueAndInference(output.QueueWait, output.RunTime);
        if (Traced && output.RunStartedAt != default)
        {
            InferenceTelemetry.Stage(InferenceTelemetry.QueueSpan, _request, output.RunStartedAt - output.QueueWait, output.QueueWait);
            InferenceTelemetry.Inference(_request, output.RunStartedAt, output.RunTime, model, output.BatchSize, provider, output.BatchActivity);
        }
    }

    /// <summary>Starts the next stage now (time since the last mark is not counted).</summary>
    public void Restart() => _last = _time.GetTimestamp();

    public StageDurations ToDurations() => new(Decode, Preprocess, Queue, Inference, Postprocess, Encode);

    private double Lap(string stage)
    {
        long now = _time.GetTimestamp();
        TimeSpan elapsed = _time.GetElapsedTime(_last, now);
        _last = now;
        if (Traced)
        {
            InferenceTelemetry.Stage(stage, _request, _time.GetUtcNow() - elapsed, elapsed);
        }

        return elapsed.TotalMilliseconds;
    }
}
