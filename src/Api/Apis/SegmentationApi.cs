using Microsoft.AspNetCore.Http.HttpResults;
using SegServe.Api.Binding;
using SegServe.Api.Hosting;
using SegServe.Api.Mapping;
using SegServe.Api.Requests;
using SegServe.Api.Uploads;
using SegServe.Contracts;
using SegServe.Inference.Encoding;
using SegServe.Inference.Models;
using SegServe.Inference.Pipeline;
using SegServe.Inference.Rendering;
using SegServe.Api.Security;

namespace SegServe.Api.Apis;

/// <summary>Where a result becomes a response: <c>/v1/models/{name}/segment</c> and <c>/overlay</c>.</summary>
public static class SegmentationApi
{
    public static RouteGroupBuilder MapSegmentationApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/v1/models/{name}").WithTags("Segmentation").RejectUnknownQueryParameters().AcceptsUploads(files: 1).RequireUser();

        api.MapPost("/segment", Segment)
            .WithName("Segment")
            .WithSummary("Segment an image: a semantic class map, or the objects of an instance model")
            .WithDescription(
                "Upload an image as multipart/form-data field `image` (JPEG, PNG, WebP; GIF first frame, TIFF first page, BMP, TGA, PBM where Inference:Images:Formats accepts them; the format is sniffed from the bytes; EXIF orientation applied). "
                + "Semantic models: the model's scores are cropped to the image content (letterbox and padding undone), resampled to the original size with `upsample`, and reduced by argmax "
                + "(sigmoid outputs by `threshold`; class-index outputs are always resized by nearest); the response is a `SegmentationResponse` with the classes present and the class map "
                + "as a base64 PNG of class indices (8-bit, 16-bit above 256 classes), or with `Accept: image/png` the class-index PNG itself. "
                + "Instance models: an `InstanceSegmentationResponse` — each object's class, score, box, area and COCO RLE mask, best first (optional polygons and cropped mask PNGs) — "
                + "or with `Accept: image/png` a 16-bit PNG of instance ids.")
            .Accepts<ImageUploadForm>("multipart/form-data")
            .Produces(StatusCodes.Status200OK, null, ContentNegotiation.Json, ContentNegotiation.Png)
            .WithMetadata(new JsonOneOfAttribute(typeof(SegmentationResponse), typeof(InstanceSegmentationResponse)))
            .ProducesProblems(ApiConventions.ImageRequest);

        api.MapPost("/overlay", Overlay)
            .WithName("Overlay")
            .WithSummary("Overlay class or instance colours on an image, or apply a portrait effect")
            .WithDescription(
                "Upload an image as multipart/form-data field `image`. Without `effect`, returns the image with each class's colour blended at `alpha` "
                + "(the background class is left untinted), optionally with class boundaries outlined and a legend of the classes present; instance models draw tinted masks "
                + "with contours, boxes and \"class score\" labels. With `effect` (portrait mode, semantic models with a foreground class): the probability of the `foreground` class is "
                + "upsampled bilinearly to the original size and used as alpha — `blur` blurs the background (Gaussian, standard deviation `radius` pixels) and keeps the foreground "
                + "sharp with a feathered edge; `replace` puts the foreground on a flat `background` colour; `cutout` returns an RGBA PNG whose alpha is the probability. "
                + "The output keeps the original size and EXIF-corrected orientation, as PNG or JPEG (`format`, else the Accept header; PNG by default; `cutout` is PNG only).")
            .Accepts<ImageUploadForm>("multipart/form-data")
            .Produces(StatusCodes.Status200OK, null, ContentNegotiation.Png, ContentNegotiation.Jpeg)
            .ProducesProblems(ApiConventions.ImageRequest);

        return api;
    }

    // Segments an image.
    public static async Task<Results<Ok<SegmentationResponse>, Ok<InstanceSegmentationResponse>, FileContentHttpResult>> Segment(
        [AsParameters] SegmentRequest request,
        SegmentationPipeline pipeline,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(pipeline);
        bool png = request.ResponseType() == ContentNegotiation.Png;
        using UploadedFile image = await request.ReadImageAsync(cancellationToken);
        SegmentationModel model = request.Model;
        if (request.IsInstanceModel)
        {
            using InstanceSegmentation found = await pipeline.SegmentInstancesAsync(model, image.Content, request.InstanceOptions(), request.Deadline.At, cancellationToken);
            return png
                ? request.Context.WithServerTiming(found.Timer, TypedResults.File(SegmentationEncoder.InstanceIdsPng(found), ContentNegotiation.Png))
                : request.Context.WithServerTiming(found.Timer, TypedResults.Ok(found.ToResponse(model, SegmentationEncoder.Encode(found, model.ClassNames, request.Extras()))));
        }

        using SemanticSegmentation result = await pipeline.SegmentAsync(model, image.Content, request.SemanticOptions(json: !png), cancellationToken);
        return png
            ? request.Context.WithServerTiming(result.Timer, TypedResults.File(SegmentationEncoder.ClassMapPng(result), ContentNegotiation.Png))
            : request.Context.WithServerTiming(result.Timer, TypedResults.Ok(result.ToResponse(model, SegmentationEncoder.Encode(result, model.ClassNames))));
    }

    // Overlays class (or instance) colours on an image, or applies a portrait effect.
    public static async Task<FileContentHttpResult> Overlay(
        [AsParameters] OverlayRequest request,
        SegmentationPipeline pipeline,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(pipeline);
        PictureFormat format = request.PictureFormat();
        PortraitOptions? portrait = request.IsInstanceModel ? null : request.Portrait();
        using UploadedFile image = await request.ReadImageAsync(cancellationToken);
        SegmentationModel model = request.Model;
        if (request.IsInstanceModel)
        {
            using InstanceSegmentation found = await pipeline.SegmentInstancesAsync(model, image.Content, request.InstanceOptions(), request.Deadline.At, cancellationToken);
            byte[] drawn = OverlayPictures.Instances(found, model, request.InstanceAlpha, format);
            return request.Context.WithServerTiming(found.Timer, TypedResults.File(drawn, PictureEncoder.MediaType(format)));
        }

        using SemanticSegmentation result = await pipeline.SegmentAsync(model, image.Content, request.SemanticOptions(portrait), cancellationToken);
        byte[] picture = portrait is null
            ? OverlayPictures.ClassColours(result, model, request.ClassOverlay(), format)
            : OverlayPictures.Portrait(result, portrait, format);
        return request.Context.WithServerTiming(result.Timer, TypedResults.File(picture, PictureEncoder.MediaType(format)));
    }
}

/// <summary>The multipart form of an upload (documents the request body in OpenAPI).</summary>
public sealed class ImageUploadForm
{
    /// <summary>The image file: JPEG, PNG or WebP (GIF first frame, TIFF first page, BMP, TGA, PBM where configured).</summary>
    public required IFormFile Image { get; init; }
}
