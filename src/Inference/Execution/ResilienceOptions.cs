using System.ComponentModel.DataAnnotations;

namespace SegServe.Inference.Execution;

/// <summary>
/// How a model's runs are protected (bound from <c>Inference:Resilience</c>; a manifest's <c>resilience</c> section and
/// <c>Inference:Resilience:Models:{name}</c> override them per model, in that order).
/// </summary>
public sealed class ResilienceOptions
{
    /// <summary>Longest a model run may take before ONNX Runtime is told to stop it (its batch fails with 503 model-timeout).</summary>
    [Range(1, 3_600_000)]
    public int RunTimeoutMs { get; set; } = 30_000;

    /// <summary>Share of failed runs within <see cref="SamplingDurationMs"/> that opens the circuit.</summary>
    [Range(0.01, 1.0)]
    public double FailureRatio { get; set; } = 0.5;

    /// <summary>Runs within the sampling window before the ratio counts.</summary>
    [Range(2, 100_000)]
    public int MinimumThroughput { get; set; } = 5;

    /// <summary>The window over which failures are counted, in milliseconds.</summary>
    [Range(500, 3_600_000)]
    public int SamplingDurationMs { get; set; } = 30_000;

    /// <summary>How long an open circuit refuses requests before a run is tried again, in milliseconds.</summary>
    [Range(500, 3_600_000)]
    public int BreakDurationMs { get; set; } = 15_000;

    /// <summary>Allocation failures in a row, of single images, after which the model's session is re-created.</summary>
    [Range(1, 1000)]
    public int RecreateSessionAfter { get; set; } = 3;

    /// <summary>Per-model overrides of these settings, by model name.</summary>
    public Dictionary<string, ResilienceOverride> Models { get; set; } = new(StringComparer.Ordinal);
}

/// <summary>Per-model overrides of <see cref="ResilienceOptions"/>; unset values keep the manifest's or the defaults.</summary>
public sealed class ResilienceOverride
{
    public int? RunTimeoutMs { get; set; }

    public double? FailureRatio { get; set; }

    public int? MinimumThroughput { get; set; }

    public int? SamplingDurationMs { get; set; }

    public int? BreakDurationMs { get; set; }
}

/// <summary>One model's resilience settings in force.</summary>
/// <param name="RunTimeout">Longest run.</param>
/// <param name="FailureRatio">Share of failures that opens the circuit.</param>
/// <param name="MinimumThroughput">Runs before the ratio counts.</param>
/// <param name="SamplingDuration">The window failures are counted over.</param>
/// <param name="BreakDuration">How long an open circuit stays open.</param>
/// <param name="RecreateSessionAfter">Allocation failures in a row before the session is re-created.</param>
public sealed record ResilienceSettings(
    TimeSpan RunTimeout,
    double FailureRatio,
    int MinimumThroughput,
    TimeSpan SamplingDuration,
    TimeSpan BreakDuration,
    int RecreateSessionAfter)
{
    /// <summary>What is out of range, if anything (Polly's limits: windows and breaks of 0.5 s or more, at least 2 runs).</summary>
    public IReadOnlyList<string> Problems()
    {
        var problems = new List<string>();
        if (RunTimeout < TimeSpan.FromMilliseconds(1))
        {
            problems.Add("runTimeoutMs must be at least 1.");
        }

        if (!(FailureRatio > 0 && FailureRatio <= 1))
        {
            problems.Add($"failureRatio must be within (0, 1] (got {FailureRatio}).");
        }

        if (MinimumThroughput < 2)
        {
            problems.Add($"minimumThroughput must be at least 2 (got {MinimumThroughput}).");
        }

        if (SamplingDuration < TimeSpan.FromMilliseconds(500) || BreakDuration < TimeSpan.FromMilliseconds(500))
        {
            problems.Add("samplingDurationMs and breakDurationMs must be at least 500.");
        }

        return problems;
    }

    /// <summary>The defaults of <paramref name="options"/>, overridden by the manifest's then by the model's configured overrides.</summary>
    public static ResilienceSettings For(ResilienceOptions options, ResilienceOverride? manifest, ResilienceOverride? configured)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new ResilienceSettings(
            TimeSpan.FromMilliseconds(configured?.RunTimeoutMs ?? manifest?.RunTimeoutMs ?? options.RunTimeoutMs),
            configured?.FailureRatio ?? manifest?.FailureRatio ?? options.FailureRatio,
            configured?.MinimumThroughput ?? manifest?.MinimumThroughput ?? options.MinimumThroughput,
            TimeSpan.FromMilliseconds(configured?.SamplingDurationMs ?? manifest?.SamplingDurationMs ?? options.SamplingDurationMs),
            TimeSpan.FromMilliseconds(configured?.BreakDurationMs ?? manifest?.BreakDurationMs ?? options.BreakDurationMs),
            options.RecreateSessionAfter);
    }
}
