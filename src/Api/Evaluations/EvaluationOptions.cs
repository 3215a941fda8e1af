using System.ComponentModel.DataAnnotations;

namespace SegServe.Api.Evaluations;

/// <summary>Settings of evaluation runs, bound from the <c>Evaluation</c> section.</summary>
public sealed class EvaluationOptions
{
    public const string SectionName = "Evaluation";

    /// <summary>The SQLite database that keeps evaluation runs across restarts. Relative paths start at the content root.</summary>
    [Required]
    public string DatabasePath { get; set; } = "evaluations.db";

    /// <summary>Most pairs one zip archive may add.</summary>
    [Range(1, 100_000)]
    public int MaxArchivePairs { get; set; } = 1_000;

    /// <summary>
    /// Most classes a semantic score may have. A run's totals and a response's confusion matrix hold classes² counts:
    /// 1,024 classes are 8 MB of counts and a few MB of JSON; the engine's ceiling is 4,096.
    /// </summary>
    [Range(1, SegServe.Inference.Evaluation.ScoringSettings.MaxClasses)]
    public int MaxClasses { get; set; } = 1_024;

    /// <summary>Most evaluation runs one caller (an API key, or everyone without one) may create.</summary>
    [Range(1, 10_000_000)]
    public int MaxRunsPerKey { get; set; } = 1_000;

    /// <summary>Most bytes of stored samples one caller's runs may hold (1 GiB by default).</summary>
    [Range(1024, long.MaxValue)]
    public long MaxStoredBytesPerKey { get; set; } = 1L << 30;

    /// <summary>Most samples one evaluation run may hold.</summary>
    [Range(1, 10_000_000)]
    public int MaxSamplesPerRun { get; set; } = 100_000;
}
