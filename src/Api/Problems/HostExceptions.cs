using SegServe.Inference.Models;

namespace SegServe.Api.Problems;

/// <summary>No model has the name a request gave.</summary>
public sealed class ModelNotFoundException(string name)
    : Exception($"There is no model named '{name}'. GET /v1/models lists the models.")
{
    public string Name { get; } = name;
}

/// <summary>The model exists but cannot serve: it is still loading, or it failed to load.</summary>
public sealed class ModelUnavailableException(string name, ModelState state)
    : Exception(state.Status == ModelStatus.Failed
        ? $"Model '{name}' failed to load: {state.FailureReason}"
        : $"Model '{name}' is still loading ({Progress(state)}).")
{
    /// <summary>How long a client should wait before asking again about a loading model.</summary>
    public static readonly TimeSpan LoadingRetryAfter = TimeSpan.FromSeconds(5);

    public string Name { get; } = name;

    public ModelState State { get; } = state;

    private static string Progress(ModelState state) => state.Stage switch
    {
        ModelLoadStage.WarmingUp => $"warming up: {state.WarmUpRunsCompleted} of {state.WarmUpRuns} runs done",
        ModelLoadStage.Opening => "opening its ONNX file",
        _ => "waiting for the models before it",
    };
}

/// <summary>The Accept header allows none of the media types the endpoint can return.</summary>
public sealed class NotAcceptableException(string offered, string accept)
    : Exception($"This endpoint returns {offered}; the Accept header asked for '{accept}'.");

/// <summary>Why an upload could not be read.</summary>
public enum UploadFault
{
    /// <summary>The body is not multipart/form-data (415).</summary>
    NotMultipart,

    /// <summary>The multipart body cannot be parsed (400).</summary>
    Malformed,

    /// <summary>The body is larger than uploads may be (413).</summary>
    TooLarge,

    /// <summary>A required file field is absent (400).</summary>
    MissingFile,

    /// <summary>The body arrived under Kestrel's minimum data rate and was cut off (408).</summary>
    TooSlow,
}

/// <summary>An upload that could not be read; <see cref="Field"/> names the missing field for <see cref="UploadFault.MissingFile"/>.</summary>
public sealed class UploadRejectedException(UploadFault fault, string message, string? field = null) : Exception(message)
{
    public UploadFault Fault { get; } = fault;

    public string? Field { get; } = field;
}

/// <summary>No evaluation run has the id a request gave.</summary>
public sealed class EvaluationRunNotFoundException(string id) : Exception($"There is no evaluation run '{id}'.");

/// <summary>A limit on what a client may keep (samples per run, runs or stored bytes per key) is reached.</summary>
public sealed class QuotaExceededException(string message) : Exception(message);

/// <summary>A model's new files could not be loaded; the version loaded before keeps serving.</summary>
public sealed class ModelReloadFailedException(string name, string reason)
    : Exception($"Model '{name}' was not reloaded: {reason} The version loaded before keeps serving.");

/// <summary>A run's report picture cannot be drawn in the run's present state.</summary>
public sealed class ReportUnavailableException(string message) : Exception(message);
