using System.Globalization;
using Microsoft.AspNetCore.WebUtilities;
using SegServe.Inference;
using SegServe.Inference.Decoding;
using SegServe.Inference.Evaluation;
using SegServe.Inference.Execution;
using SegServe.Inference.Imaging;
using SegServe.Inference.Models;
using SegServe.Inference.Scheduling;

namespace SegServe.Api.Problems;

/// <summary>What a condition looks like on the wire: status, stable type URN and title (the same for every endpoint).</summary>
/// <param name="Status">HTTP status.</param>
/// <param name="Type">Stable <c>type</c> URN (<see cref="ProblemTypes"/>).</param>
/// <param name="Title">Short, stable summary of the condition.</param>
public sealed record ProblemKind(int Status, string Type, string Title);

/// <summary>One problem response: its kind, what exactly was wrong, and when to retry.</summary>
/// <param name="Kind">Status, type and title.</param>
/// <param name="Detail">What was wrong, for this request.</param>
/// <param name="RetryAfter">When to try again (429, 503); null where retrying the same request cannot help.</param>
/// <param name="Extensions">Members added to the problem, e.g. <c>parameter</c>.</param>
public sealed record Problem(ProblemKind Kind, string Detail, TimeSpan? RetryAfter = null, IReadOnlyDictionary<string, object?>? Extensions = null);

/// <summary>
/// The one mapping from conditions to problem responses: engine and host exceptions to status, type, title and
/// <c>Retry-After</c>; framework statuses (no route, wrong method) to the same shapes.
/// </summary>
public static class ProblemCatalog
{
    public static readonly ProblemKind InvalidParameter = new(400, ProblemTypes.InvalidParameter, "Invalid parameter");
    public static readonly ProblemKind InvalidBody = new(400, ProblemTypes.InvalidBody, "Unreadable request body");
    public static readonly ProblemKind MissingImage = new(400, ProblemTypes.MissingImage, "Missing image");
    public static readonly ProblemKind MissingFile = new(400, ProblemTypes.MissingFile, "Missing file");
    public static readonly ProblemKind MalformedMultipart = new(400, ProblemTypes.MalformedMultipart, "Malformed multipart body");
    public static readonly ProblemKind InvalidImage = new(400, ProblemTypes.InvalidImage, "Invalid image");
    public static readonly ProblemKind UnreadableFile = new(400, ProblemTypes.UnreadableFile, "Unreadable file");
    public static readonly ProblemKind InvalidArchive = new(400, ProblemTypes.InvalidArchive, "Invalid archive");
    public static readonly ProblemKind NotFound = new(404, ProblemTypes.NotFound, "Not found");
    public static readonly ProblemKind ModelNotFound = new(404, ProblemTypes.ModelNotFound, "Model not found");
    public static readonly ProblemKind RunNotFound = new(404, ProblemTypes.RunNotFound, "Evaluation run not found");
    public static readonly ProblemKind MethodNotAllowed = new(405, ProblemTypes.MethodNotAllowed, "Method not allowed");
    public static readonly ProblemKind NotAcceptable = new(406, ProblemTypes.NotAcceptable, "Not acceptable");
    public static readonly ProblemKind ReportUnavailable = new(409, ProblemTypes.ReportUnavailable, "Report unavailable");
    public static readonly ProblemKind RequestTimeout = new(408, ProblemTypes.RequestTimeout, "Request timeout");
    public static readonly ProblemKind RequestTooLarge = new(413, ProblemTypes.RequestTooLarge, "Request too large");
    public static readonly ProblemKind ImageTooLarge = new(413, ProblemTypes.ImageTooLarge, "Image too large");
    public static readonly ProblemKind ArchiveTooLarge = new(413, ProblemTypes.ArchiveTooLarge, "Archive too large");
    public static readonly ProblemKind UnsupportedMediaType = new(415, ProblemTypes.UnsupportedMediaType, "Unsupported media type");
    public static readonly ProblemKind UnsupportedImageFormat = new(415, ProblemTypes.UnsupportedImageFormat, "Unsupported image format");
    public static readonly ProblemKind CannotScore = new(422, ProblemTypes.CannotScore, "Cannot score");
    public static readonly ProblemKind QueueFull = new(429, ProblemTypes.QueueFull, "Queue full");
    public static readonly ProblemKind ModelFault = new(500, ProblemTypes.ModelFault, "Model fault");
    public static readonly ProblemKind InternalError = new(500, ProblemTypes.InternalError, "Internal error");
    public static readonly ProblemKind Unauthorized = new(401, ProblemTypes.Unauthorized, "Unauthorized");
    public static readonly ProblemKind Forbidden = new(403, ProblemTypes.Forbidden, "Forbidden");
    public static readonly ProblemKind RateLimited = new(429, ProblemTypes.RateLimited, "Rate limited");
    public static readonly ProblemKind QuotaExceeded = new(429, ProblemTypes.QuotaExceeded, "Quota exceeded");
    public static readonly ProblemKind Overloaded = new(429, ProblemTypes.Overloaded, "Overloaded");
    public static readonly ProblemKind ImageTooComplex = new(422, ProblemTypes.ImageTooComplex, "Image too complex");
    public static readonly ProblemKind ModelSuspended = new(503, ProblemTypes.ModelSuspended, "Model suspended");
    public static readonly ProblemKind ModelTimeout = new(503, ProblemTypes.ModelTimeout, "Model timeout");
    public static readonly ProblemKind ReloadFailed = new(422, ProblemTypes.ReloadFailed, "Reload failed");
    public static readonly ProblemKind ModelLoading = new(503, ProblemTypes.ModelLoading, "Model loading");
    public static readonly ProblemKind ModelUnavailable = new(503, ProblemTypes.ModelUnavailable, "Model unavailable");
    public static readonly ProblemKind DeadlineExceeded = new(503, ProblemTypes.DeadlineExceeded, "Deadline exceeded");
    public static readonly ProblemKind ShuttingDown = new(503, ProblemTypes.ShuttingDown, "Shutting down");

    /// <summary>Every kind, for documentation and tests.</summary>
    public static IReadOnlyList<ProblemKind> All { get; } =
    [
        InvalidParameter, InvalidBody, MissingImage, MissingFile, MalformedMultipart, InvalidImage, UnreadableFile, InvalidArchive,
        NotFound, ModelNotFound, RunNotFound, MethodNotAllowed, NotAcceptable, ReportUnavailable, RequestTooLarge, ImageTooLarge,
        ArchiveTooLarge, UnsupportedMediaType, UnsupportedImageFormat, CannotScore, QueueFull, ModelFault, InternalError,
        ModelLoading, ModelUnavailable, DeadlineExceeded, Unauthorized, Forbidden, RateLimited, QuotaExceeded, Overloaded,
        ImageTooComplex, ModelSuspended, ModelTimeout, ReloadFailed, RequestTimeout, ShuttingDown,
    ];

    /// <summary>The problem an exception stands for; <see cref="InternalError"/> (without the exception's text) for anything unexpected.</summary>
    public static Problem Describe(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception switch
        {
            InvalidOptionException e => new Problem(InvalidParameter, e.Message, null, Parameter(e.Option, e.Value)),
            ImageRejectedException e => new Problem(
                e.Reason switch
                {
                    ImageRejection.TooManyBytes or ImageRejection.TooManyPixels => ImageTooLarge,
                    ImageRejection.UnsupportedFormat or ImageRejection.FormatNotAccepted => UnsupportedImageFormat,
                    ImageRejection.TooComplex => ImageTooComplex,
                    _ => InvalidImage,
                },
                e.Message),
            DecodeOverloadedException e => new Problem(Overloaded, e.Message, e.RetryAfter),
            UploadRejectedException e => new Problem(
                e.Fault switch
                {
                    UploadFault.NotMultipart => UnsupportedMediaType,
                    UploadFault.TooLarge => RequestTooLarge,
                    UploadFault.TooSlow => RequestTimeout,
                    UploadFault.MissingFile when e.Field == "image" => MissingImage,
                    UploadFault.MissingFile => MissingFile,
                    _ => MalformedMultipart,
                },
                e.Message),
            EvaluationInputException e => new Problem(
                e.Fault switch
                {
                    EvaluationFault.UnreadableFile => UnreadableFile,
                    EvaluationFault.UnreadableArchive => InvalidArchive,
                    EvaluationFault.TooManyPairs => ArchiveTooLarge,
                    EvaluationFault.MissingFile => MissingFile,
                    _ => CannotScore,
                },
                e.Message),
            ModelNotFoundException e => new Problem(ModelNotFound, e.Message),
            ModelUnavailableException e when e.State.Status == ModelStatus.Loading =>
                new Problem(ModelLoading, e.Message, ModelUnavailableException.LoadingRetryAfter),
            ModelUnavailableException e => new Problem(ModelUnavailable, e.Message),
            QueueStoppedException e => new Problem(ModelUnavailable, e.Message),
            NotAcceptableException e => new Problem(NotAcceptable, e.Message),
            EvaluationRunNotFoundException e => new Problem(RunNotFound, e.Message),
            ReportUnavailableException e => new Problem(ReportUnavailable, e.Message),
            QuotaExceededException e => new Problem(QuotaExceeded, e.Message),
            ModelReloadFailedException e => new Problem(ReloadFailed, e.Message),
            QueueFullException e => new Problem(QueueFull, e.Message, e.RetryAfter),
            DeadlineExceededException e => new Problem(DeadlineExceeded, e.Message),
            ModelSuspendedException e => new Problem(ModelSuspended, e.Message, e.RetryAfter),
            ModelRunTimeoutException e => new Problem(ModelTimeout, e.Message),
            BatchFailedException { InnerException: ModelSuspendedException e } => new Problem(ModelSuspended, e.Message, e.RetryAfter),
            BatchFailedException { InnerException: ModelRunTimeoutException e } => new Problem(ModelTimeout, e.Message),
            ModelOutputException or BatchFailedException => new Problem(ModelFault, PathRedaction.Redact(exception.Message)),
            BadHttpRequestException e => FromBadRequest(e),
            _ => new Problem(InternalError, "The service failed to handle the request; the trace id identifies it in the service's log."),
        };
    }

    /// <summary>The kind of a status the framework set without an exception (no route, wrong method, wrong Content-Type).</summary>
    public static ProblemKind ForStatus(int status) => status switch
    {
        StatusCodes.Status404NotFound => NotFound,
        StatusCodes.Status405MethodNotAllowed => MethodNotAllowed,
        StatusCodes.Status406NotAcceptable => NotAcceptable,
        StatusCodes.Status413PayloadTooLarge => RequestTooLarge,
        StatusCodes.Status415UnsupportedMediaType => UnsupportedMediaType,
        StatusCodes.Status400BadRequest => InvalidBody,
        _ => new ProblemKind(status, $"about:blank", ReasonPhrases.GetReasonPhrase(status)),
    };

    /// <summary>Longest text of a client's own that a problem repeats back (a value, a detail), in characters.</summary>
    public const int MaxEcho = 200;

    /// <summary>The <c>parameter</c> (and <c>value</c>) members of an invalid-parameter problem.</summary>
    public static IReadOnlyDictionary<string, object?> Parameter(string name, string? value) =>
        value is null
            ? new Dictionary<string, object?> { ["parameter"] = Shorten(name, MaxEcho) }
            : new Dictionary<string, object?> { ["parameter"] = Shorten(name, MaxEcho), ["value"] = Shorten(value, MaxEcho) };

    /// <summary>
    /// The text, cut to <paramref name="max"/> characters: a problem names what was wrong, and must not turn a
    /// request's two megabytes of query or JSON into a response twice that size.
    /// </summary>
    public static string Shorten(string text, int max)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Length <= max ? text : string.Concat(text.AsSpan(0, max), $"… ({text.Length} characters)");
    }

    // Kestrel's body limit, and minimal APIs' JSON binding (with ThrowOnBadRequest): a request the framework could not
    // read is the client's error, with the framework's own explanation.
    internal const string SlowBody = "The request body arrived too slowly: the service cuts off a body sent at under its minimum rate (Kestrel:Limits:MinRequestBodyDataRate, 1024 bytes/s after a 5 s grace by default).";

    private static Problem FromBadRequest(BadHttpRequestException exception) => exception.StatusCode switch
    {
        StatusCodes.Status413PayloadTooLarge => new Problem(RequestTooLarge, $"The request body is larger than the service accepts: {exception.Message}"),
        StatusCodes.Status408RequestTimeout => new Problem(RequestTimeout, SlowBody),
        StatusCodes.Status415UnsupportedMediaType => new Problem(UnsupportedMediaType, $"{exception.Message} Send the body as application/json."),
        _ => new Problem(InvalidBody, exception.InnerException is System.Text.Json.JsonException json
            ? string.Create(CultureInfo.InvariantCulture, $"The request body is not valid JSON of the shape /swagger lists: the problem is at {json.Path ?? "$"} (line {json.LineNumber + 1}, byte {json.BytePositionInLine + 1}).")
            : $"The request body could not be read: send valid JSON of the shape /swagger lists, as Content-Type application/json."),
    };
}
