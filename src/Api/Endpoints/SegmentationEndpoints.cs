using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SegServe.Api.Problems;
using SegServe.Api.Uploads;
using SegServe.Contracts;
using SegServe.Inference;
using SegServe.Inference.Decoding;
using SegServe.Inference.Encoding;
using SegServe.Inference.Imaging;
using SegServe.Inference.Memory;
using SegServe.Inference.Models;
using SegServe.Inference.Pipeline;
using SegServe.Inference.Rendering;
using SegServe.Inference.Scheduling;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Api.Endpoints;

/// <summary>Where a mask becomes a response: segmentation as JSON or a class-index PNG, and colour overlays.</summary>
public static class SegmentationEndpoints
{
    private const string Png = "image/png";
    private const string Jpeg = "image/jpeg";
    private const string Json = "application/json";

    /// <summary>Header with which a request shortens its deadline (milliseconds until its model run must start).</summary>
    public const string RequestTimeoutHeader = "Request-Timeout-Ms";

    private static readonly JpegEncoder s_jpeg = new() { Quality = 90, ColorType = JpegColorType.YCbCrRatio420 };
    // Colour type set explicitly: ImageSharp would otherwise keep the upload's (a grey photo would lose its overlay colours).
    private static readonly PngEncoder s_png = new() { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8, CompressionLevel = PngCompressionLevel.BestSpeed, FilterMethod = PngFilterMethod.Sub };
    private static readonly PngEncoder s_pngWithAlpha = new() { ColorType = PngColorType.RgbWithAlpha, BitDepth = PngBitDepth.Bit8, CompressionLevel = PngCompressionLevel.BestSpeed, FilterMethod = PngFilterMethod.Sub };

    public static RouteGroupBuilder MapSegmentationApi(this IEndpointRouteBuilder app)
    {
        RouteGroupBuilder api = app.MapGroup("/v1/models/{name}").WithTags("Segmentation");

        api.MapPost("/segment", Segment)
            .WithName("Segment")
            .WithSummary("Segment an image (semantic class map)")
            .WithDescription(
                "Upload an image as multipart/form-data field `image` (JPEG, PNG, BMP, GIF first frame, WebP, TIFF first page; EXIF orientation applied). "
                + "The model's scores are cropped to the image content (letterbox and padding undone), resampled to the original size with `upsample`, and reduced by argmax "
                + "(sigmoid outputs by `threshold`; class-index outputs are always resized by nearest). "
                + "Returns JSON with the classes present and the class map as a base64 PNG of class indices (8-bit, 16-bit above 256 classes), "
                + "or, with `Accept: image/png`, the class-index PNG itself.")
            .Accepts<ImageUploadForm>("multipart/form-data")
            .Produces<SegmentationResponse>(StatusCodes.Status200OK, Json)
            .Produces<InstanceSegmentationResponse>(StatusCodes.Status200OK, Json)
            .Produces(StatusCodes.Status200OK, contentType: Png)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status500InternalServerError)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        api.MapPost("/overlay", Overlay)
            .WithName("Overlay")
            .WithSummary("Overlay class colours on an image, or apply a portrait effect")
            .WithDescription(
                "Upload an image as multipart/form-data field `image`. Without `effect`, returns the image with each class's colour blended at `alpha` "
                + "(the background class is left untinted), optionally with class boundaries outlined and a legend of the classes present. "
                + "With `effect` (portrait mode, for any model with a foreground class): the probability of the `foreground` class is upsampled "
                + "bilinearly to the original size and used as alpha — `blur` blurs the background (Gaussian, standard deviation `radius` pixels) "
                + "and keeps the foreground sharp with a feathered edge; `replace` puts the foreground on a flat `background` colour; "
                + "`cutout` returns an RGBA PNG whose alpha is the probability. The output keeps the original size and EXIF-corrected orientation, "
                + "as PNG or JPEG (`format`, else the Accept header; PNG by default; `cutout` is PNG only).")
            .Accepts<ImageUploadForm>("multipart/form-data")
            .Produces(StatusCodes.Status200OK, null, Png, Jpeg)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status406NotAcceptable)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status429TooManyRequests)
            .ProducesProblem(StatusCodes.Status500InternalServerError)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        return api;
    }

    /// <summary>Segments an image.</summary>
    /// <param name="name">The model to use.</param>
    /// <param name="upsample">How scores are resampled to the image size: <c>nearest</c>, <c>bilinear</c> (default; half-pixel centres as PyTorch align_corners=False) or <c>bicubic</c>.</param>
    /// <param name="threshold">Foreground threshold for sigmoid models, 0–1 (default: the manifest's).</param>
    /// <param name="include">Comma-separated extras: <c>confidence</c> (semantic: the per-pixel probability of the chosen class as an 8-bit PNG); <c>polygons</c>, <c>mask</c> (instance models: outlines with holes, and the mask cropped to its rectangle as PNG).</param>
    /// <param name="scoreThreshold">Instance models: lowest score kept, 0–1 (default 0.5).</param>
    /// <param name="maskThreshold">Instance models: mask probability threshold, 0–1 (default 0.5).</param>
    /// <param name="maxInstances">Instance models: most objects returned, best first, 1–1000 (default 100).</param>
    /// <param name="classes">Instance models: comma-separated class names or ids to keep (default all).</param>
    /// <param name="tolerance">Instance models with <c>include=polygons</c>: Douglas–Peucker tolerance in pixels, 0–100 (default 0.5, which keeps the rasterised polygons within about 2% of the mask; 0 keeps every corner: exact).</param>
    /// <param name="request">The HTTP request.</param>
    /// <param name="services">The engine.</param>
    /// <param name="cancellationToken">Request abort.</param>
    public static async Task<Results<Ok<SegmentationResponse>, Ok<InstanceSegmentationResponse>, FileContentHttpResult, ProblemHttpResult>> Segment(
        string name,
        string? upsample,
        string? threshold,
        string? include,
        string? scoreThreshold,
        string? maskThreshold,
        string? maxInstances,
        string? classes,
        string? tolerance,
        HttpRequest request,
        [AsParameters] SegmentationServices services,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        string? mediaType = Negotiate(request.Headers.Accept, Json, Png);
        if (mediaType is null)
        {
            return NotAcceptable(request, "application/json or image/png");
        }

        if (services.Repository.TryGet(name, out SegmentationModel? candidate) && candidate.InstanceFamily is not null)
        {
            string? semanticOnly = !string.IsNullOrEmpty(upsample) ? "upsample" : !string.IsNullOrEmpty(threshold) ? "threshold" : null;
            if (semanticOnly is not null)
            {
                return ProblemResults.InvalidParameter(semanticOnly, $"{semanticOnly} applies to semantic models; '{name}' is an instance model (use scoreThreshold, maskThreshold, maxInstances, classes).");
            }

            return await InstanceEndpoints.SegmentAsync(candidate, scoreThreshold, maskThreshold, maxInstances, classes, include, tolerance, mediaType, request, services, cancellationToken).ConfigureAwait(false);
        }

        string? instanceOnly = !string.IsNullOrEmpty(scoreThreshold) ? "scoreThreshold" : !string.IsNullOrEmpty(maskThreshold) ? "maskThreshold"
            : !string.IsNullOrEmpty(maxInstances) ? "maxInstances" : !string.IsNullOrEmpty(classes) ? "classes" : !string.IsNullOrEmpty(tolerance) ? "tolerance" : null;
        if (instanceOnly is not null)
        {
            return ProblemResults.InvalidParameter(instanceOnly, $"{instanceOnly} applies to instance models; '{name}' is a semantic model.");
        }

        if (!TryParseUpsample(upsample, out Interpolation? interpolation, out ProblemHttpResult? problem)
            || !TryParseFraction("threshold", threshold, out double? thresholdValue, out problem)
            || !TryParseInclude(include, out bool includeConfidence, out problem))
        {
            return problem!;
        }

        var options = new SegmentOptions(interpolation, thresholdValue, includeConfidence && mediaType == Json);
        (SemanticSegmentation? result, problem) = await RunAsync(name, request, options, services, cancellationToken).ConfigureAwait(false);
        if (result is null)
        {
            return problem!;
        }

        using (result)
        {
            SegmentationModel model = services.Repository.TryGet(name, out SegmentationModel? m) ? m : throw new InvalidOperationException();
            StageTimer timer = result.Timer;
            timer.Restart();
            byte[] classMapPng = MapEncoder.EncodeClassMap(result.Map);
            if (mediaType == Png)
            {
                timer.EndEncode();
                AddServerTiming(request.HttpContext.Response, timer.ToDurations());
                return TypedResults.File(classMapPng, Png);
            }

            byte[]? confidencePng = result.Map.Confidence is not null ? MapEncoder.EncodeConfidence(result.Map) : null;
            timer.EndEncode();
            int bitDepth = MapEncoder.ClassMapBitDepth(result.Map.ClassCount);
            var response = new SegmentationResponse(
                Model: model.Name,
                Width: result.Map.Width,
                Height: result.Map.Height,
                Upsample: ContractMapping.EnumText(result.Upsample),
                ExecutionProvider: model.Provider?.Name ?? "",
                Classes: ClassesPresent(result.Map, model.Manifest!),
                BatchSize: result.BatchSize,
                ClassMap: new EncodedImage(Png, bitDepth, Convert.ToBase64String(classMapPng)),
                Confidence: confidencePng is null ? null : new EncodedImage(Png, 8, Convert.ToBase64String(confidencePng)),
                Timings: timer.ToDurations().ToContract());
            AddServerTiming(request.HttpContext.Response, timer.ToDurations());
            return TypedResults.Ok(response);
        }
    }

    /// <summary>Overlays class colours on an image, or applies a portrait effect.</summary>
    /// <param name="name">The model to use.</param>
    /// <param name="effect">Portrait effect: <c>blur</c>, <c>cutout</c> or <c>replace</c>; absent (or <c>none</c>) for the class-colour overlay.</param>
    /// <param name="foreground">The class kept by a portrait effect, by name or id (default: <c>person</c> if the model has it, else class 1 of a two-class model).</param>
    /// <param name="radius">Blur strength for <c>effect=blur</c>: the Gaussian's standard deviation in pixels of the original image, 0.5–500 (default 2% of the shorter side).</param>
    /// <param name="background">Background colour for <c>effect=replace</c>: <c>#rrggbb</c>, <c>rrggbb</c> or a name (default white).</param>
    /// <param name="alpha">Opacity of the class colours, 0–1 (default 0.5). Class-colour overlay only.</param>
    /// <param name="outline">Outline class boundaries (default false). Class-colour overlay only.</param>
    /// <param name="legend">Draw a legend of the classes present (default false). Class-colour overlay only.</param>
    /// <param name="format"><c>png</c> or <c>jpeg</c>; overrides the Accept header.</param>
    /// <param name="upsample">How scores are resampled to the image size: <c>nearest</c>, <c>bilinear</c> (default) or <c>bicubic</c>.</param>
    /// <param name="threshold">Foreground threshold for sigmoid models, 0–1 (default: the manifest's).</param>
    /// <param name="scoreThreshold">Instance models: lowest score drawn, 0–1 (default 0.5).</param>
    /// <param name="maxInstances">Instance models: most objects drawn (default 100).</param>
    /// <param name="classes">Instance models: comma-separated class names or ids to draw.</param>
    /// <param name="request">The HTTP request.</param>
    /// <param name="services">The engine.</param>
    /// <param name="cancellationToken">Request abort.</param>
    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> Overlay(
        string name,
        string? effect,
        string? foreground,
        string? radius,
        string? background,
        string? alpha,
        string? outline,
        string? legend,
        string? format,
        string? upsample,
        string? threshold,
        string? scoreThreshold,
        string? maxInstances,
        string? classes,
        HttpRequest request,
        [AsParameters] SegmentationServices services,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (services.Repository.TryGet(name, out SegmentationModel? instanceModel) && instanceModel.InstanceFamily is not null)
        {
            string? semanticOnly = !string.IsNullOrEmpty(effect) ? "effect" : !string.IsNullOrEmpty(foreground) ? "foreground" : !string.IsNullOrEmpty(radius) ? "radius"
                : !string.IsNullOrEmpty(background) ? "background" : !string.IsNullOrEmpty(outline) ? "outline" : !string.IsNullOrEmpty(legend) ? "legend"
                : !string.IsNullOrEmpty(upsample) ? "upsample" : !string.IsNullOrEmpty(threshold) ? "threshold" : null;
            if (semanticOnly is not null)
            {
                return ProblemResults.InvalidParameter(semanticOnly, $"{semanticOnly} applies to semantic models; '{name}' is an instance model (its overlay takes alpha, scoreThreshold, maxInstances, classes, format).");
            }

            string? overlayType = string.IsNullOrEmpty(format)
                ? Negotiate(request.Headers.Accept, Png, Jpeg)
                : format.ToLowerInvariant() switch { "png" => Png, "jpeg" or "jpg" => Jpeg, _ => null };
            if (overlayType is null)
            {
                return string.IsNullOrEmpty(format)
                    ? NotAcceptable(request, "image/png or image/jpeg")
                    : ProblemResults.InvalidParameter("format", $"format '{format}' is not supported: use 'png' or 'jpeg'.");
            }

            if (!TryParseFraction("alpha", alpha, out double? instanceAlpha, out ProblemHttpResult? instanceProblem))
            {
                return instanceProblem!;
            }

            return await InstanceEndpoints.OverlayAsync(instanceModel, scoreThreshold, maxInstances, classes, (float)(instanceAlpha ?? 0.5), overlayType == Png ? s_png : s_jpeg, overlayType, request, services, cancellationToken).ConfigureAwait(false);
        }

        string? instanceParameter = !string.IsNullOrEmpty(scoreThreshold) ? "scoreThreshold" : !string.IsNullOrEmpty(maxInstances) ? "maxInstances" : !string.IsNullOrEmpty(classes) ? "classes" : null;
        if (instanceParameter is not null)
        {
            return ProblemResults.InvalidParameter(instanceParameter, $"{instanceParameter} applies to instance models; '{name}' is a semantic model.");
        }

        if (!PortraitParameters.TryParse(effect, radius, background, alpha, outline, legend, out PortraitParameters portrait, out ProblemHttpResult? problem))
        {
            return problem!;
        }

        string? mediaType;
        if (!string.IsNullOrEmpty(format))
        {
            mediaType = format.ToLowerInvariant() switch
            {
                "png" => Png,
                "jpeg" or "jpg" => Jpeg,
                _ => null,
            };
            if (mediaType is null)
            {
                return ProblemResults.InvalidParameter("format", $"format '{format}' is not supported: use 'png' or 'jpeg'.");
            }

            if (mediaType == Jpeg && portrait.Effect == PortraitEffect.Cutout)
            {
                return ProblemResults.InvalidParameter("format", "effect=cutout returns a PNG with an alpha channel; JPEG has none: use format=png.");
            }
        }
        else
        {
            mediaType = portrait.Effect == PortraitEffect.Cutout ? Negotiate(request.Headers.Accept, Png) : Negotiate(request.Headers.Accept, Png, Jpeg);
            if (mediaType is null)
            {
                return NotAcceptable(request, portrait.Effect == PortraitEffect.Cutout ? "image/png" : "image/png or image/jpeg");
            }
        }

        int? foregroundClass = null;
        if (portrait.Effect is not null)
        {
            if (!services.Repository.TryGet(name, out SegmentationModel? candidate))
            {
                return ProblemResults.ModelNotFound(name);
            }

            if (candidate.Manifest is ModelManifest candidateManifest)
            {
                if (!PortraitParameters.TryResolveForeground(foreground, candidateManifest, name, out int resolved, out problem))
                {
                    return problem!;
                }

                foregroundClass = resolved;
            }
        }
        else if (!string.IsNullOrEmpty(foreground))
        {
            return ProblemResults.InvalidParameter("foreground", "foreground applies to portrait effects only: add effect=blur, cutout or replace.");
        }

        if (!TryParseFraction("alpha", alpha, out double? alphaValue, out problem)
            || !TryParseBool("outline", outline, out bool outlineValue, out problem)
            || !TryParseBool("legend", legend, out bool legendValue, out problem)
            || !TryParseUpsample(upsample, out Interpolation? interpolation, out problem)
            || !TryParseFraction("threshold", threshold, out double? thresholdValue, out problem))
        {
            return problem!;
        }

        var options = new SegmentOptions(interpolation, thresholdValue, IncludeConfidence: false, foregroundClass);
        (SemanticSegmentation? result, problem) = await RunAsync(name, request, options, services, cancellationToken).ConfigureAwait(false);
        if (result is null)
        {
            return problem!;
        }

        using (result)
        {
            if (portrait.Effect is PortraitEffect portraitEffect)
            {
                return ApplyPortraitEffect(result, portraitEffect, portrait, mediaType, request);
            }

            services.Repository.TryGet(name, out SegmentationModel? model);
            ModelManifest manifest = model!.Manifest!;
            StageTimer timer = result.Timer;
            timer.Restart();
            var names = new string[manifest.Classes.Count];
            for (int i = 0; i < names.Length; i++)
            {
                names[i] = manifest.Classes[i].Name;
            }

            var overlay = new OverlayOptions((float)(alphaValue ?? 0.5), outlineValue, legendValue, new Rgb24(255, 255, 255));
            OverlayRenderer.Render(result.Image.Image, result.Map, new ClassPalette(manifest.Classes), names, overlay);
            timer.EndPostprocess();

            using var stream = new MemoryStream();
            if (mediaType == Jpeg)
            {
                result.Image.Image.Save(stream, s_jpeg);
            }
            else
            {
                result.Image.Image.Save(stream, s_png);
            }

            timer.EndEncode();
            AddServerTiming(request.HttpContext.Response, timer.ToDurations());
            return TypedResults.File(stream.ToArray(), mediaType);
        }
    }

    private static FileContentHttpResult ApplyPortraitEffect(SemanticSegmentation result, PortraitEffect effect, PortraitParameters parameters, string mediaType, HttpRequest request)
    {
        StageTimer timer = result.Timer;
        timer.Restart();
        Plane<byte> mask = result.Foreground ?? throw new InvalidOperationException("The pipeline did not compute the foreground mask.");
        var image = result.Image.Image;
        using var stream = new MemoryStream();
        if (effect == PortraitEffect.Cutout)
        {
            using var cutout = PortraitCompositor.Cutout(image, mask);
            timer.EndPostprocess();
            cutout.Save(stream, s_pngWithAlpha);
        }
        else
        {
            if (effect == PortraitEffect.Blur)
            {
                PortraitCompositor.BlurBackground(image, mask, parameters.Radius ?? PortraitCompositor.DefaultBlurRadius(image.Width, image.Height));
            }
            else
            {
                PortraitCompositor.ReplaceBackground(image, mask, parameters.Background);
            }

            timer.EndPostprocess();
            if (mediaType == Jpeg)
            {
                image.Save(stream, s_jpeg);
            }
            else
            {
                image.Save(stream, s_png);
            }
        }

        timer.EndEncode();
        AddServerTiming(request.HttpContext.Response, timer.ToDurations());
        return TypedResults.File(stream.ToArray(), mediaType);
    }

    /// <summary>Checks the model, reads the upload and runs the pipeline; returns the result or the problem.</summary>
    private static async Task<(SemanticSegmentation?, ProblemHttpResult?)> RunAsync(
        string name,
        HttpRequest request,
        SegmentOptions options,
        SegmentationServices services,
        CancellationToken cancellationToken)
    {
        ProblemHttpResult? problem = CheckReady(name, request, services.Repository, out SegmentationModel? model);
        if (problem is not null)
        {
            return (null, problem);
        }

        InferenceOptions inference = services.Options.Value;
        if (!TryReadDeadline(request, inference.Queue, services.Time, out DateTimeOffset deadline, out problem))
        {
            return (null, problem);
        }

        (ImageUpload? upload, problem) = await ImageUploadReader.ReadAsync(request, inference.Images, cancellationToken).ConfigureAwait(false);
        if (upload is null)
        {
            return (null, problem);
        }

        using (upload)
        {
            return await SegmentUploadAsync(model!, upload.Content, options with { Deadline = deadline }, services, request, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The model by name if it is ready to serve; otherwise the problem (404, or 503 with the reason).</summary>
    internal static ProblemHttpResult? CheckReady(string name, HttpRequest request, ModelRepository repository, out SegmentationModel? model)
    {
        if (!repository.TryGet(name, out model))
        {
            return ProblemResults.ModelNotFound(name);
        }

        if (model.Status == ModelStatus.Ready)
        {
            return null;
        }

        if (model.Status == ModelStatus.Loading)
        {
            request.HttpContext.Response.Headers.RetryAfter = "5";
        }

        string detail = model.Status == ModelStatus.Failed
            ? $"Model '{name}' failed to load: {model.FailureReason}"
            : $"Model '{name}' is still loading.";
        return ProblemResults.Create(StatusCodes.Status503ServiceUnavailable, "Model unavailable", detail, ProblemTypes.ModelUnavailable);
    }

    /// <summary>Runs an uploaded image through the pipeline, turning every failure into the problem that names it.</summary>
    internal static async Task<(SemanticSegmentation?, ProblemHttpResult?)> SegmentUploadAsync(
        SegmentationModel model,
        ReadOnlyMemory<byte> content,
        SegmentOptions options,
        SegmentationServices services,
        HttpRequest request,
        CancellationToken cancellationToken)
    {
        string name = model.Name;
        try
        {
            SemanticSegmentation result = await services.Pipeline.SegmentAsync(model, content, options, cancellationToken).ConfigureAwait(false);
            return (result, null);
        }
        catch (ImageRejectedException ex)
        {
            return (null, ProblemResults.FromImageRejection(ex));
        }
        catch (ModelOutputException ex)
        {
            return (null, ModelFault(name, ex.Message));
        }
        catch (QueueFullException ex)
        {
            request.HttpContext.Response.Headers.RetryAfter = Math.Ceiling(ex.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
            return (null, ProblemResults.Create(StatusCodes.Status429TooManyRequests, "Queue full", ex.Message, ProblemTypes.QueueFull));
        }
        catch (DeadlineExceededException ex)
        {
            return (null, ProblemResults.Create(StatusCodes.Status503ServiceUnavailable, "Deadline exceeded", ex.Message, ProblemTypes.DeadlineExceeded));
        }
        catch (QueueStoppedException ex)
        {
            return (null, ProblemResults.Create(StatusCodes.Status503ServiceUnavailable, "Model unavailable", ex.Message, ProblemTypes.ModelUnavailable));
        }
        catch (BatchFailedException ex)
        {
            return (null, ModelFault(name, ex.Message));
        }
    }

    /// <summary>
    /// The request's deadline: the configured default from now, shortened (never lengthened) by a
    /// <c>Request-Timeout-Ms</c> header.
    /// </summary>
    internal static bool TryReadDeadline(HttpRequest request, QueueOptions queue, TimeProvider time, out DateTimeOffset deadline, out ProblemHttpResult? problem)
    {
        problem = null;
        double timeoutMs = queue.DefaultTimeoutMs;
        string? header = request.Headers[RequestTimeoutHeader];
        if (!string.IsNullOrEmpty(header))
        {
            if (!double.TryParse(header, NumberStyles.Float, CultureInfo.InvariantCulture, out double asked) || !(asked > 0))
            {
                deadline = default;
                problem = ProblemResults.InvalidParameter(RequestTimeoutHeader, $"The {RequestTimeoutHeader} header must be a positive number of milliseconds (got '{header}').");
                return false;
            }

            timeoutMs = Math.Min(timeoutMs, asked);
        }

        deadline = time.GetUtcNow() + TimeSpan.FromMilliseconds(timeoutMs);
        return true;
    }

    internal static ProblemHttpResult ModelFault(string name, string detail) =>
        ProblemResults.Create(StatusCodes.Status500InternalServerError, "Model fault", $"Model '{name}': {detail}", ProblemTypes.ModelFault);

    private static List<ClassPresence> ClassesPresent(ClassMap map, ModelManifest manifest)
    {
        var classes = new List<ClassPresence>();
        double total = (double)map.Width * map.Height;
        for (int id = 0; id < map.PixelCounts.Length; id++)
        {
            long count = map.PixelCounts[id];
            if (count > 0)
            {
                classes.Add(new ClassPresence(id, manifest.Classes[id].Name, count, Math.Round(count / total, 6)));
            }
        }

        return classes;
    }

    /// <summary>Picks the first of <paramref name="offered"/> that the Accept header allows, by quality; null if none.</summary>
    private static string? Negotiate(Microsoft.Extensions.Primitives.StringValues accept, params string[] offered)
    {
        if (accept.Count == 0 || !Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParseList(accept, out IList<Microsoft.Net.Http.Headers.MediaTypeHeaderValue>? ranges) || ranges.Count == 0)
        {
            return offered[0];
        }

        string? best = null;
        double bestQuality = 0;
        foreach (string candidate in offered)
        {
            var candidateType = new Microsoft.Net.Http.Headers.MediaTypeHeaderValue(candidate);
            foreach (Microsoft.Net.Http.Headers.MediaTypeHeaderValue range in ranges)
            {
                double quality = range.Quality ?? 1.0;
                if (quality > bestQuality && candidateType.IsSubsetOf(range))
                {
                    best = candidate;
                    bestQuality = quality;
                }
            }
        }

        return best;
    }

    private static ProblemHttpResult NotAcceptable(HttpRequest request, string offered) =>
        ProblemResults.Create(
            StatusCodes.Status406NotAcceptable,
            "Not acceptable",
            $"This endpoint returns {offered}; the Accept header asked for '{request.Headers.Accept}'.",
            ProblemTypes.NotAcceptable);

    private static bool TryParseUpsample(string? text, out Interpolation? value, out ProblemHttpResult? problem)
    {
        problem = null;
        value = text?.ToLowerInvariant() switch
        {
            null or "" => null,
            "nearest" => Interpolation.Nearest,
            "bilinear" => Interpolation.Bilinear,
            "bicubic" => Interpolation.Bicubic,
            _ => (Interpolation)(-1),
        };
        if (value == (Interpolation)(-1))
        {
            value = null;
            problem = ProblemResults.InvalidParameter("upsample", $"upsample '{text}' is not supported: use 'nearest', 'bilinear' or 'bicubic'.");
            return false;
        }

        return true;
    }

    internal static bool TryParseFraction(string parameter, string? text, out double? value, out ProblemHttpResult? problem)
    {
        value = null;
        problem = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) || !(parsed >= 0 && parsed <= 1))
        {
            problem = ProblemResults.InvalidParameter(parameter, $"{parameter} must be a number within 0–1 (got '{text}').");
            return false;
        }

        value = parsed;
        return true;
    }

    private static bool TryParseBool(string parameter, string? text, out bool value, out ProblemHttpResult? problem)
    {
        problem = null;
        value = false;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        switch (text.ToLowerInvariant())
        {
            case "true" or "1" or "yes":
                value = true;
                return true;
            case "false" or "0" or "no":
                return true;
            default:
                problem = ProblemResults.InvalidParameter(parameter, $"{parameter} must be true or false (got '{text}').");
                return false;
        }
    }

    private static bool TryParseInclude(string? text, out bool confidence, out ProblemHttpResult? problem)
    {
        confidence = false;
        problem = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        foreach (string part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (part.Equals("confidence", StringComparison.OrdinalIgnoreCase))
            {
                confidence = true;
            }
            else
            {
                problem = ProblemResults.InvalidParameter("include", $"include '{part}' is not supported: the only extra is 'confidence'.");
                return false;
            }
        }

        return true;
    }

    /// <summary>The stage timings as a W3C Server-Timing header, readable in browser dev tools.</summary>
    internal static void AddServerTiming(HttpResponse response, StageDurations d) =>
        response.Headers["Server-Timing"] = string.Create(
            CultureInfo.InvariantCulture,
            $"decode;dur={d.DecodeMs:0.###}, preprocess;dur={d.PreprocessMs:0.###}, queue;dur={d.QueueMs:0.###}, inference;dur={d.InferenceMs:0.###}, postprocess;dur={d.PostprocessMs:0.###}, encode;dur={d.EncodeMs:0.###}");
}

/// <summary>The engine services a segmentation endpoint uses.</summary>
/// <param name="Repository">The model repository.</param>
/// <param name="Pipeline">The request pipeline.</param>
/// <param name="Options">Engine options (limits).</param>
/// <param name="Time">The clock deadlines are measured with.</param>
public readonly record struct SegmentationServices(ModelRepository Repository, SegmentationPipeline Pipeline, IOptions<InferenceOptions> Options, TimeProvider Time);

/// <summary>The multipart form of an upload (documents the request body in OpenAPI).</summary>
public sealed class ImageUploadForm
{
    /// <summary>The image file.</summary>
    public required IFormFile Image { get; init; }
}
