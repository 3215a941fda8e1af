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
    public int MaxArchivePairs { get; set; } = 5_000;
}
