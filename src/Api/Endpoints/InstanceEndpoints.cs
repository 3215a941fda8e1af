using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using SegServe.Api.Problems;
using SegServe.Api.Uploads;
using SegServe.Contracts;
using SegServe.Inference.Encoding;
using SegServe.Inference.Imaging;
using SegServe.Inference.Instances;
using SegServe.Inference.Models;
using SegServe.Inference.Pipeline;
using SegServe.Inference.Scheduling;

namespace SegServe.Api.Endpoints;

/// <summary>Where instances become a response: objects as JSON with COCO RLE masks, or a 16-bit instance-id PNG.</summary>
internal static class InstanceEndpoints
{
    public const int MaxInstancesLimit = 1000;

    public static async Task<Results<Ok<SegmentationResponse>, Ok<InstanceSegmentationResponse>, FileContentHttpResult, ProblemHttpResult>> SegmentAsync(
        SegmentationModel model,
        string? scoreThreshold,
        string? maskThreshold,
        string? maxInstances,
        string? classes,
        string? include,
        string? tolerance,
        string mediaType,
        HttpRequest request,
        SegmentationServices services,
        CancellationToken cancellationToken)
    {
        if (!TryParseOptions(model, scoreThreshold, maskThreshold, maxInstances, classes, out InstanceOptions? options, out ProblemHttpResult? problem)
            || !TryParseExtras(include, tolerance, out bool polygons, out bool croppedMask, out double simplify, out problem))
        {
            return problem!;
        }

        (InstanceSegmentation? result, problem) = await RunAsync(model, options!, request, services, cancellationToken).ConfigureAwait(false);
        if (result is null)
        {
            return problem!;
        }

        using (result)
        {
            StageTimer timer = result.Timer;
            timer.Restart();
            int width = result.Image.Width;
            int height = result.Image.Height;
            if (mediaType == "image/png")
            {
                byte[] png = MapEncoder.EncodeInstanceIds(result.Objects.Select(o => o.Mask).ToList(), height, width);
                timer.EndEncode();
                SegmentationEndpoints.AddServerTiming(request.HttpContext.Response, timer.ToDurations());
                return TypedResults.File(png, "image/png");
            }

            ModelManifest manifest = model.Manifest!;
            var instances = new List<InstanceResponse>(result.Objects.Count);
            for (int i = 0; i < result.Objects.Count; i++)
            {
                DetectedObject o = result.Objects[i];
                List<PolygonResponse>? rings = null;
                if (polygons)
                {
                    rings = [];
                    foreach (MaskPolygon polygon in MaskPolygons.Trace(o.Mask, simplify))
                    {
                        rings.Add(new PolygonResponse(polygon.Outer, [.. polygon.Holes]));
                    }
                }

                CroppedMaskResponse? cropped = null;
                if (croppedMask && MapEncoder.EncodeCroppedMask(o.Mask) is { } crop)
                {
                    cropped = new CroppedMaskResponse(crop.X, crop.Y, crop.Width, crop.Height, Convert.ToBase64String(crop.Png));
                }

                instances.Add(new InstanceResponse(
                    i + 1,
                    o.ClassId,
                    manifest.Classes[o.ClassId].Name,
                    Math.Round(o.Score, 6),
                    new BoxResponse(Math.Round(o.X1, 3), Math.Round(o.Y1, 3), Math.Round(o.X2, 3), Math.Round(o.Y2, 3)),
                    o.Mask.Area,
                    new RleMask([height, width], o.Mask.ToCompressedString()),
                    rings,
                    cropped));
            }

            timer.EndEncode();
            SegmentationEndpoints.AddServerTiming(request.HttpContext.Response, timer.ToDurations());
            return TypedResults.Ok(new InstanceSegmentationResponse(model.Name, width, height, model.Provider?.Name ?? "", instances, timer.ToDurations().ToContract()));
        }
    }

    /// <summary>The instances drawn over the photo: tinted masks with contours, boxes and "class score" labels.</summary>
    public static async Task<Results<FileContentHttpResult, ProblemHttpResult>> OverlayAsync(
        SegmentationModel model,
        string? scoreThreshold,
        string? maxInstances,
        string? classes,
        float alpha,
        SixLabors.ImageSharp.Formats.IImageEncoder encoder,
        string mediaType,
        HttpRequest request,
        SegmentationServices services,
        CancellationToken cancellationToken)
    {
        if (!TryParseOptions(model, scoreThreshold, null, maxInstances, classes, out InstanceOptions? options, out ProblemHttpResult? problem))
        {
            return problem!;
        }

        (InstanceSegmentation? result, problem) = await RunAsync(model, options!, request, services, cancellationToken).ConfigureAwait(false);
        if (result is null)
        {
            return problem!;
        }

        using (result)
        {
            StageTimer timer = result.Timer;
            timer.Restart();
            var names = new string[model.Manifest!.Classes.Count];
            for (int i = 0; i < names.Length; i++)
            {
                names[i] = model.Manifest.Classes[i].Name;
            }

            Inference.Rendering.InstanceOverlayRenderer.Render(result.Image.Image, result.Objects, names, alpha);
            timer.EndPostprocess();
            using var stream = new MemoryStream();
            result.Image.Image.Save(stream, encoder);
            timer.EndEncode();
            SegmentationEndpoints.AddServerTiming(request.HttpContext.Response, timer.ToDurations());
            return TypedResults.File(stream.ToArray(), mediaType);
        }
    }

    private static async Task<(InstanceSegmentation?, ProblemHttpResult?)> RunAsync(
        SegmentationModel model,
        InstanceOptions options,
        HttpRequest request,
        SegmentationServices services,
        CancellationToken cancellationToken)
    {
        ProblemHttpResult? problem = SegmentationEndpoints.CheckReady(model.Name, request, services.Repository, out _);
        if (problem is not null)
        {
            return (null, problem);
        }

        if (!SegmentationEndpoints.TryReadDeadline(request, services.Options.Value.Queue, services.Time, out DateTimeOffset deadline, out problem))
        {
            return (null, problem);
        }

        (ImageUpload? upload, problem) = await ImageUploadReader.ReadAsync(request, services.Options.Value.Images, cancellationToken).ConfigureAwait(false);
        if (upload is null)
        {
            return (null, problem);
        }

        using (upload)
        {
            try
            {
                return (await services.Pipeline.SegmentInstancesAsync(model, upload.Content, options, deadline, cancellationToken).ConfigureAwait(false), null);
            }
            catch (ImageRejectedException ex)
            {
                return (null, ProblemResults.FromImageRejection(ex));
            }
            catch (Exception ex) when (ex is Inference.Decoding.ModelOutputException or BatchFailedException)
            {
                return (null, SegmentationEndpoints.ModelFault(model.Name, ex.Message));
            }
            catch (QueueFullException ex)
            {
                request.HttpContext.Response.Headers.RetryAfter = Math.Ceiling(ex.RetryAfter.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                return (null, ProblemResults.Create(StatusCodes.Status429TooManyRequests, "Queue full", ex.Message, ProblemTypes.QueueFull));
            }
            catch (Exception ex) when (ex is DeadlineExceededException or QueueStoppedException)
            {
                return (null, ProblemResults.Create(StatusCodes.Status503ServiceUnavailable, "Unavailable", ex.Message, ex is DeadlineExceededException ? ProblemTypes.DeadlineExceeded : ProblemTypes.ModelUnavailable));
            }
        }
    }

    private static bool TryParseExtras(string? include, string? tolerance, out bool polygons, out bool croppedMask, out double simplify, out ProblemHttpResult? problem)
    {
        polygons = false;
        croppedMask = false;
        simplify = 0.5;
        problem = null;
        foreach (string part in (include ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            switch (part.ToLowerInvariant())
            {
                case "polygons":
                    polygons = true;
                    break;
                case "mask":
                    croppedMask = true;
                    break;
                default:
                    problem = ProblemResults.InvalidParameter("include", $"include '{part}' is not supported for instance models: use 'polygons' and/or 'mask'.");
                    return false;
            }
        }

        if (!string.IsNullOrEmpty(tolerance)
            && (!double.TryParse(tolerance, NumberStyles.Float, CultureInfo.InvariantCulture, out simplify) || !(simplify >= 0 && simplify <= 100)))
        {
            problem = ProblemResults.InvalidParameter("tolerance", $"tolerance must be a number of pixels within 0–100 (got '{tolerance}').");
            return false;
        }

        return true;
    }

    private static bool TryParseOptions(
        SegmentationModel model,
        string? scoreThreshold,
        string? maskThreshold,
        string? maxInstances,
        string? classes,
        out InstanceOptions? options,
        out ProblemHttpResult? problem)
    {
        options = null;
        if (!SegmentationEndpoints.TryParseFraction("scoreThreshold", scoreThreshold, out double? score, out problem)
            || !SegmentationEndpoints.TryParseFraction("maskThreshold", maskThreshold, out double? mask, out problem))
        {
            return false;
        }

        int max = 100;
        if (!string.IsNullOrEmpty(maxInstances) && (!int.TryParse(maxInstances, NumberStyles.None, CultureInfo.InvariantCulture, out max) || max is < 1 or > MaxInstancesLimit))
        {
            problem = ProblemResults.InvalidParameter("maxInstances", $"maxInstances must be a whole number within 1–{MaxInstancesLimit} (got '{maxInstances}').");
            return false;
        }

        HashSet<int>? wanted = null;
        if (!string.IsNullOrWhiteSpace(classes))
        {
            wanted = [];
            IReadOnlyList<ClassSpec> known = model.Manifest!.Classes;
            foreach (string part in classes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                int id = -1;
                for (int i = 0; i < known.Count && id < 0; i++)
                {
                    id = string.Equals(known[i].Name, part, StringComparison.OrdinalIgnoreCase) ? i : -1;
                }

                if (id < 0 && (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out id) || id >= known.Count))
                {
                    problem = ProblemResults.InvalidParameter("classes", $"classes: '{part}' is not a class of model '{model.Name}' (by name, or id 0–{known.Count - 1}).");
                    return false;
                }

                wanted.Add(id);
            }
        }

        // The manifest's output.threshold is the model's default confidence (Ultralytics predicts at 0.25).
        options = new InstanceOptions((float)(score ?? model.Manifest!.Output.Threshold), (float)(mask ?? 0.5), max, wanted);
        return true;
    }
}
