using Microsoft.AspNetCore.Http.HttpResults;
using SegServe.Inference.Imaging;

namespace SegServe.Api.Problems;

/// <summary>Builds the service's problem+json responses.</summary>
public static class ProblemResults
{
    public static ProblemHttpResult Create(int status, string title, string detail, string type, IDictionary<string, object?>? extensions = null) =>
        TypedResults.Problem(detail: detail, statusCode: status, title: title, type: type, extensions: extensions);

    public static ProblemHttpResult InvalidParameter(string parameter, string detail) =>
        Create(
            StatusCodes.Status400BadRequest,
            "Invalid parameter",
            detail,
            ProblemTypes.InvalidParameter,
            new Dictionary<string, object?> { ["parameter"] = parameter });

    public static ProblemHttpResult ModelNotFound(string name) =>
        Create(StatusCodes.Status404NotFound, "Model not found", $"There is no model named '{name}'. GET /v1/models lists the models.", ProblemTypes.ModelNotFound);

    public static ProblemHttpResult FromImageRejection(ImageRejectedException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return exception.Reason switch
        {
            ImageRejection.TooManyBytes or ImageRejection.TooManyPixels =>
                Create(StatusCodes.Status413PayloadTooLarge, "Image too large", exception.Message, ProblemTypes.ImageTooLarge),
            ImageRejection.UnsupportedFormat =>
                Create(StatusCodes.Status415UnsupportedMediaType, "Unsupported image format", exception.Message, ProblemTypes.UnsupportedMediaType),
            _ => Create(StatusCodes.Status400BadRequest, "Invalid image", exception.Message, ProblemTypes.InvalidImage),
        };
    }
}
