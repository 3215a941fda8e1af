namespace SegServe.Api.Problems;

/// <summary>
/// Stable <c>type</c> URNs of the problems this service returns, one per distinct condition, so that clients can
/// branch on them rather than on message text. The README lists them with their statuses.
/// </summary>
public static class ProblemTypes
{
    private const string Base = "urn:segserve:problem:";

    public const string Unauthorized = Base + "unauthorized";
    public const string Forbidden = Base + "forbidden";
    public const string RateLimited = Base + "rate-limited";
    public const string QuotaExceeded = Base + "quota-exceeded";
    public const string Overloaded = Base + "overloaded";
    public const string ShuttingDown = Base + "shutting-down";
    public const string ImageTooComplex = Base + "image-too-complex";
    public const string ModelSuspended = Base + "model-suspended";
    public const string ModelTimeout = Base + "model-timeout";
    public const string ReloadFailed = Base + "reload-failed";
    public const string InvalidParameter = Base + "invalid-parameter";
    public const string InvalidBody = Base + "invalid-body";
    public const string MissingImage = Base + "missing-image";
    public const string MissingFile = Base + "missing-file";
    public const string MalformedMultipart = Base + "malformed-multipart";
    public const string InvalidImage = Base + "invalid-image";
    public const string UnreadableFile = Base + "unreadable-file";
    public const string InvalidArchive = Base + "invalid-archive";
    public const string NotFound = Base + "not-found";
    public const string ModelNotFound = Base + "model-not-found";
    public const string RunNotFound = Base + "evaluation-run-not-found";
    public const string MethodNotAllowed = Base + "method-not-allowed";
    public const string NotAcceptable = Base + "not-acceptable";
    public const string ReportUnavailable = Base + "report-unavailable";
    public const string RequestTooLarge = Base + "request-too-large";
    public const string RequestTimeout = Base + "request-timeout";
    public const string ImageTooLarge = Base + "image-too-large";
    public const string ArchiveTooLarge = Base + "archive-too-large";
    public const string UnsupportedMediaType = Base + "unsupported-media-type";
    public const string UnsupportedImageFormat = Base + "unsupported-image-format";
    public const string CannotScore = Base + "cannot-score";
    public const string QueueFull = Base + "queue-full";
    public const string ModelFault = Base + "model-fault";
    public const string InternalError = Base + "internal-error";
    public const string ModelLoading = Base + "model-loading";
    public const string ModelUnavailable = Base + "model-unavailable";
    public const string DeadlineExceeded = Base + "deadline-exceeded";
}
