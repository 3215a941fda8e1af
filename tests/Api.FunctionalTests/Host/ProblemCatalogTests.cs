using SegServe.Api.Problems;
using SegServe.Inference;
using SegServe.Inference.Decoding;
using SegServe.Inference.Evaluation;
using SegServe.Inference.Imaging;
using SegServe.Inference.Models;
using SegServe.Inference.Scheduling;
using SegServe.Tests.Shared;

namespace SegServe.Api.FunctionalTests.Host;

/// <summary>The one mapping from conditions to problems: each condition's status, type, title and Retry-After.</summary>
public sealed class ProblemCatalogTests
{
    private static readonly ModelState s_loading = new(ModelStatus.Loading, ModelLoadStage.WarmingUp, 2, 9, null);

    public static TheoryData<Exception, int, string, string, double?> Conditions => new()
    {
        { new InvalidOptionException("threshold", "2", "threshold must be within 0–1."), 400, "invalid-parameter", "Invalid parameter", null },
        { new ImageRejectedException(ImageRejection.TooManyBytes, "bytes"), 413, "image-too-large", "Image too large", null },
        { new ImageRejectedException(ImageRejection.TooManyPixels, "pixels"), 413, "image-too-large", "Image too large", null },
        { new ImageRejectedException(ImageRejection.UnsupportedFormat, "not an image"), 415, "unsupported-image-format", "Unsupported image format", null },
        { new ImageRejectedException(ImageRejection.Corrupt, "truncated"), 400, "invalid-image", "Invalid image", null },
        { new ImageRejectedException(ImageRejection.FormatNotAccepted, "GIF is not accepted here"), 415, "unsupported-image-format", "Unsupported image format", null },
        { new ImageRejectedException(ImageRejection.TooComplex, "200 frames"), 422, "image-too-complex", "Image too complex", null },
        { new ImageRejectedException(ImageRejection.Empty, "empty"), 400, "invalid-image", "Invalid image", null },
        { new DecodeOverloadedException("the decode budget is full", TimeSpan.FromSeconds(1)), 429, "overloaded", "Overloaded", 1 },
        { new UploadRejectedException(UploadFault.NotMultipart, "not multipart"), 415, "unsupported-media-type", "Unsupported media type", null },
        { new UploadRejectedException(UploadFault.Malformed, "malformed"), 400, "malformed-multipart", "Malformed multipart body", null },
        { new UploadRejectedException(UploadFault.TooLarge, "too large"), 413, "request-too-large", "Request too large", null },
        { new UploadRejectedException(UploadFault.TooSlow, "too slow"), 408, "request-timeout", "Request timeout", null },
        { new Microsoft.AspNetCore.Http.BadHttpRequestException("slow", 408), 408, "request-timeout", "Request timeout", null },
        { new UploadRejectedException(UploadFault.MissingFile, "no image", "image"), 400, "missing-image", "Missing image", null },
        { new UploadRejectedException(UploadFault.MissingFile, "no groundTruth", "groundTruth"), 400, "missing-file", "Missing file", null },
        { new EvaluationInputException(EvaluationFault.CannotScore, "sizes differ"), 422, "cannot-score", "Cannot score", null },
        { new EvaluationInputException(EvaluationFault.UnreadableFile, "not a PNG"), 400, "unreadable-file", "Unreadable file", null },
        { new EvaluationInputException(EvaluationFault.UnreadableArchive, "not a zip"), 400, "invalid-archive", "Invalid archive", null },
        { new EvaluationInputException(EvaluationFault.TooManyPairs, "6000 pairs"), 413, "archive-too-large", "Archive too large", null },
        { new EvaluationInputException(EvaluationFault.MissingFile, "classMap needed"), 400, "missing-file", "Missing file", null },
        { new ModelNotFoundException("nope"), 404, "model-not-found", "Model not found", null },
        { new ModelUnavailableException("selfie", s_loading), 503, "model-loading", "Model loading", 5 },
        { new ModelUnavailableException("broken", ModelState.Failed("model.json is invalid")), 503, "model-unavailable", "Model unavailable", null },
        { new QueueStoppedException("selfie"), 503, "model-unavailable", "Model unavailable", null },
        { new NotAcceptableException("image/png", "text/html"), 406, "not-acceptable", "Not acceptable", null },
        { new EvaluationRunNotFoundException("abc"), 404, "evaluation-run-not-found", "Evaluation run not found", null },
        { new ReportUnavailableException("no samples"), 409, "report-unavailable", "Report unavailable", null },
        { new QuotaExceededException("100000 samples"), 429, "quota-exceeded", "Quota exceeded", null },
        { new ModelReloadFailedException("selfie", "model.onnx is missing."), 422, "reload-failed", "Reload failed", null },
        { new QueueFullException("selfie", 256, TimeSpan.FromSeconds(2.2)), 429, "queue-full", "Queue full", 2.2 },
        { new DeadlineExceededException("selfie", TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(200)), 503, "deadline-exceeded", "Deadline exceeded", null },
        { new ModelOutputException("class 9 outside 0–2"), 500, "model-fault", "Model fault", null },
        { new BatchFailedException("run failed", new InvalidOperationException()), 500, "model-fault", "Model fault", null },
        { new Microsoft.AspNetCore.Http.BadHttpRequestException("too big", 413), 413, "request-too-large", "Request too large", null },
        { new Microsoft.AspNetCore.Http.BadHttpRequestException("bad json", 400), 400, "invalid-body", "Unreadable request body", null },
        { new InvalidOperationException("/srv/secret: boom"), 500, "internal-error", "Internal error", null },
    };

    [Theory]
    [MemberData(nameof(Conditions))]
    public void EachCondition_HasItsStatusTypeTitleAndRetryAfter(Exception exception, int status, string type, string title, double? retryAfterSeconds)
    {
        Problem problem = ProblemCatalog.Describe(exception);

        Assert.Equal(status, problem.Kind.Status);
        Assert.Equal("urn:segserve:problem:" + type, problem.Kind.Type);
        Assert.Equal(title, problem.Kind.Title);
        Assert.Equal(retryAfterSeconds, problem.RetryAfter?.TotalSeconds);
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
    }

    [Fact]
    public void InvalidParameters_NameTheParameterAndTheValue()
    {
        Problem problem = ProblemCatalog.Describe(new InvalidOptionException("upsample", "lanczos", "upsample 'lanczos' is not supported."));

        Assert.Equal("upsample", problem.Extensions!["parameter"]);
        Assert.Equal("lanczos", problem.Extensions["value"]);
    }

    [Fact]
    public void AnUnexpectedException_IsAnsweredWithoutItsMessage()
    {
        Problem problem = ProblemCatalog.Describe(new InvalidOperationException("/srv/secret/model.onnx: boom"));

        Assert.DoesNotContain("secret", problem.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain("InvalidOperation", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryKind_HasItsOwnType_AndTheReadmeListsIt()
    {
        Assert.Equal(ProblemCatalog.All.Count, ProblemCatalog.All.Select(static k => k.Type).Distinct().Count());
        string readme = File.ReadAllText(Repository.PathOf("README.md"));
        foreach (ProblemKind kind in ProblemCatalog.All)
        {
            Assert.Contains($"| {kind.Status} | `{kind.Type}` |", readme, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData(404, "not-found")]
    [InlineData(405, "method-not-allowed")]
    [InlineData(415, "unsupported-media-type")]
    public void FrameworkStatuses_HaveTheirTypes(int status, string type) =>
        Assert.Equal("urn:segserve:problem:" + type, ProblemCatalog.ForStatus(status).Type);
}
