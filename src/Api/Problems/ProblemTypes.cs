namespace SegServe.Api.Problems;

/// <summary>
/// Stable <c>type</c> URIs of the problems this service returns, so that clients can branch on them rather than on
/// message text. The README lists them.
/// </summary>
public static class ProblemTypes
{
    private const string Base = "urn:segserve:problem:";

    public const string ModelNotFound = Base + "model-not-found";
    public const string ModelUnavailable = Base + "model-unavailable";
    public const string InvalidParameter = Base + "invalid-parameter";
    public const string MissingImage = Base + "missing-image";
    public const string UnsupportedMediaType = Base + "unsupported-media-type";
    public const string NotAcceptable = Base + "not-acceptable";
    public const string ImageTooLarge = Base + "image-too-large";
    public const string InvalidImage = Base + "invalid-image";
    public const string ModelFault = Base + "model-fault";
    public const string QueueFull = Base + "queue-full";
    public const string DeadlineExceeded = Base + "deadline-exceeded";
    public const string CannotScore = Base + "cannot-score";
    public const string RunNotFound = Base + "evaluation-run-not-found";
}
