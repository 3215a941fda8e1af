namespace SegServe.Inference.Models;

/// <summary>Life cycle of a model in the repository.</summary>
public enum ModelStatus
{
    /// <summary>Found in the models folder and being opened and warmed up; requests are refused with a retry hint.</summary>
    Loading,

    /// <summary>Serving requests.</summary>
    Ready,

    /// <summary>Could not be loaded; see the failure reason.</summary>
    Failed,
}

/// <summary>How far a loading model has got.</summary>
public enum ModelLoadStage
{
    /// <summary>Waiting for the models before it (models load one at a time, in name order).</summary>
    Queued,

    /// <summary>Reading the manifest, creating the ONNX Runtime session and checking the signature.</summary>
    Opening,

    /// <summary>Running a blank image at every batch size the queue can form.</summary>
    WarmingUp,

    /// <summary>Loading has ended: ready or failed.</summary>
    Done,
}

/// <summary>
/// A model's state at one moment, replaced as a whole on every change so that a reader never sees a status from one
/// moment and a progress from another.
/// </summary>
/// <param name="Status">Loading, ready or failed.</param>
/// <param name="Stage">How far loading has got.</param>
/// <param name="WarmUpRunsCompleted">Warm-up runs done so far.</param>
/// <param name="WarmUpRuns">Warm-up runs in all (known once the model is opened; 0 before).</param>
/// <param name="FailureReason">Why the model failed, without file-system paths; null unless failed.</param>
public sealed record ModelState(ModelStatus Status, ModelLoadStage Stage, int WarmUpRunsCompleted, int WarmUpRuns, string? FailureReason)
{
    public static readonly ModelState Queued = new(ModelStatus.Loading, ModelLoadStage.Queued, 0, 0, null);

    public static ModelState Failed(string reason) => new(ModelStatus.Failed, ModelLoadStage.Done, 0, 0, reason);
}
