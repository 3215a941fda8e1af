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

/// <summary>Measures consecutive stages with the <see cref="TimeProvider"/>'s high-resolution timestamps.</summary>
public sealed class StageTimer(TimeProvider timeProvider)
{
    private readonly TimeProvider _time = timeProvider;
    private long _last = timeProvider.GetTimestamp();

    public double Decode { get; private set; }

    public double Preprocess { get; private set; }

    public double Queue { get; private set; }

    public double Inference { get; private set; }

    public double Postprocess { get; private set; }

    public double Encode { get; private set; }

    public void EndDecode() => Decode += Lap();

    public void EndPreprocess() => Preprocess += Lap();

    public void EndQueue() => Queue += Lap();

    public void EndInference() => Inference += Lap();

    public void EndPostprocess() => Postprocess += Lap();

    public void EndEncode() => Encode += Lap();

    /// <summary>Records the queue wait and model run the batcher measured, and starts the next stage now.</summary>
    public void AddQueueAndInference(TimeSpan queue, TimeSpan inference)
    {
        Queue += queue.TotalMilliseconds;
        Inference += inference.TotalMilliseconds;
        Restart();
    }

    /// <summary>Starts the next stage now (time since the last mark is not counted).</summary>
    public void Restart() => _last = _time.GetTimestamp();

    public StageDurations ToDurations() => new(Decode, Preprocess, Queue, Inference, Postprocess, Encode);

    private double Lap()
    {
        long now = _time.GetTimestamp();
        double ms = _time.GetElapsedTime(_last, now).TotalMilliseconds;
        _last = now;
        return ms;
    }
}
