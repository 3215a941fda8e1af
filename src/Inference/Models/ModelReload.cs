namespace SegServe.Inference.Models;

/// <summary>The outcome of a reload: the model serving under the name now, and why the new version was refused, if it was.</summary>
/// <param name="Current">The new version, or the old one when the new one failed.</param>
/// <param name="FailureReason">Why the new version could not replace the old one; null when it did.</param>
public sealed record ModelReload(SegmentationModel Current, string? FailureReason);
