using Microsoft.ML.OnnxRuntime;
using SegServe.Inference.Decoding;
using SegServe.Inference.Masks;
using SegServe.Inference.Preprocessing;

namespace SegServe.Inference.Instances;

/// <summary>What a caller may choose when decoding instances.</summary>
/// <param name="ScoreThreshold">Lowest score kept.</param>
/// <param name="MaskThreshold">Mask probability threshold.</param>
/// <param name="MaxInstances">Most instances kept (highest scores first).</param>
/// <param name="Classes">Class ids to keep; null for all.</param>
public sealed record InstanceOptions(float ScoreThreshold, float MaskThreshold, int MaxInstances, IReadOnlySet<int>? Classes)
{
    /// <summary>Most instances one response may hold.</summary>
    public const int MaxInstancesLimit = 1000;

    /// <summary>Instances kept when the caller does not say.</summary>
    public const int DefaultMaxInstances = 100;

    /// <summary>Mask probability threshold when the caller does not say.</summary>
    public const float DefaultMaskThreshold = 0.5f;

    /// <summary>
    /// A request's choices against the model: the score threshold defaults to the manifest's <c>output.threshold</c>
    /// (Ultralytics models predict at 0.25); classes are named (case-insensitive) or numbered.
    /// </summary>
    /// <exception cref="InvalidOptionException">A class is not one of the model's.</exception>
    public static InstanceOptions For(SegServe.Inference.Models.SegmentationModel model, double? scoreThreshold, double? maskThreshold, int? maxInstances, string? classes)
    {
        ArgumentNullException.ThrowIfNull(model);
        HashSet<int>? wanted = null;
        if (!string.IsNullOrWhiteSpace(classes))
        {
            wanted = [];
            IReadOnlyList<string> known = model.ClassNames;
            foreach (string part in classes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                int id = -1;
                for (int i = 0; i < known.Count && id < 0; i++)
                {
                    id = string.Equals(known[i], part, StringComparison.OrdinalIgnoreCase) ? i : -1;
                }

                if (id < 0 && (!int.TryParse(part, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out id) || id >= known.Count))
                {
                    throw new InvalidOptionException("classes", classes, $"classes: '{part}' is not a class of model '{model.Name}' (by name, or id 0–{known.Count - 1}).");
                }

                wanted.Add(id);
            }
        }

        return new InstanceOptions(
            (float)(scoreThreshold ?? model.Manifest!.Output.Threshold),
            (float)(maskThreshold ?? DefaultMaskThreshold),
            maxInstances ?? DefaultMaxInstances,
            wanted);
    }
}

/// <summary>One object: its class, score, box in original-image pixels and mask.</summary>
public sealed record DetectedObject(int ClassId, float Score, float X1, float Y1, float X2, float Y2, CocoRle Mask);

/// <summary>
/// Where instance outputs become objects in the original image. Masks are made and encoded one object at a time
/// from the neighbourhood of its box, straight into COCO RLE: the decoder never holds K full-resolution float masks.
/// </summary>
public static class InstanceDecoder
{
    /// <summary>Decodes the family's outputs (in <see cref="InstanceFamilies.Outputs"/> order).</summary>
    /// <exception cref="ModelOutputException">The outputs do not have the family's shapes.</exception>
    public static List<DetectedObject> Decode(InstanceFamily family, IReadOnlyList<OrtValue> outputs, InputGeometry geometry, int classCount, InstanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(options);
        return family switch
        {
            InstanceFamily.MaskRcnnTorchvision => DecodeTorchvision(outputs, geometry, classCount, options),
            InstanceFamily.YoloSeg => YoloSegDecoder.Decode(outputs, geometry, classCount, options),
            _ => DecodeDetectron2(outputs, geometry, classCount, options),
        };
    }

    private static List<DetectedObject> DecodeTorchvision(IReadOnlyList<OrtValue> outputs, InputGeometry geometry, int classCount, InstanceOptions options)
    {
        ReadOnlySpan<float> boxes = outputs[0].GetTensorDataAsSpan<float>();
        ReadOnlySpan<long> labels = outputs[1].GetTensorDataAsSpan<long>();
        ReadOnlySpan<float> scores = outputs[2].GetTensorDataAsSpan<float>();
        long[] maskShape = outputs[3].GetTensorTypeAndShape().Shape;
        int count = scores.Length;
        if (boxes.Length != count * 4 || labels.Length != count || (count > 0 && (maskShape.Length != 4 || maskShape[0] != count)))
        {
            throw new ModelOutputException($"Mask R-CNN outputs disagree: {count} scores, {boxes.Length / 4} boxes, {labels.Length} labels, masks [{string.Join(',', maskShape)}].");
        }

        var objects = new List<DetectedObject>();
        if (count == 0)
        {
            return objects;
        }

        int height = (int)maskShape[2];
        int width = (int)maskShape[3];
        if (height != geometry.InputHeight || width != geometry.InputWidth)
        {
            throw new ModelOutputException($"Masks are {width}×{height} but the input was {geometry.InputWidth}×{geometry.InputHeight}.");
        }

        ReadOnlySpan<float> masks = outputs[3].GetTensorDataAsSpan<float>();
        int plane = height * width;
        foreach (int k in Order(scores, labels, classCount, options))
        {
            float x1 = boxes[k * 4], y1 = boxes[(k * 4) + 1], x2 = boxes[(k * 4) + 2], y2 = boxes[(k * 4) + 3];

            // torchvision pastes each 28×28 mask into its box grown by 30/28 (plus rounding): scan that neighbourhood only.
            float marginX = ((x2 - x1) / 14f) + 2f;
            float marginY = ((y2 - y1) / 14f) + 2f;
            CocoRle mask = Threshold(
                masks.Slice(k * plane, plane),
                width,
                height,
                Math.Clamp((int)MathF.Floor(x1 - marginX), 0, width),
                Math.Clamp((int)MathF.Ceiling(x2 + marginX), 0, width),
                Math.Clamp((int)MathF.Floor(y1 - marginY), 0, height),
                Math.Clamp((int)MathF.Ceiling(y2 + marginY), 0, height),
                options.MaskThreshold);
            objects.Add(new DetectedObject((int)labels[k], scores[k], x1, y1, x2, y2, mask));
        }

        return objects;
    }

    private static List<DetectedObject> DecodeDetectron2(IReadOnlyList<OrtValue> outputs, InputGeometry geometry, int classCount, InstanceOptions options)
    {
        ReadOnlySpan<float> boxes = outputs[0].GetTensorDataAsSpan<float>();
        ReadOnlySpan<long> classes = outputs[1].GetTensorDataAsSpan<long>();
        long[] maskShape = outputs[2].GetTensorTypeAndShape().Shape;
        ReadOnlySpan<float> scores = outputs[3].GetTensorDataAsSpan<float>();
        ReadOnlySpan<long> imageSize = outputs[4].GetTensorDataAsSpan<long>();
        int count = scores.Length;
        if (boxes.Length != count * 4 || classes.Length != count || imageSize.Length != 2 || (count > 0 && (maskShape.Length != 4 || maskShape[0] != count || maskShape[2] != maskShape[3])))
        {
            throw new ModelOutputException($"detectron2 outputs disagree: {count} scores, {boxes.Length / 4} boxes, {classes.Length} classes, masks [{string.Join(',', maskShape)}], image_size of {imageSize.Length}.");
        }

        var objects = new List<DetectedObject>();
        if (count == 0)
        {
            return objects;
        }

        // Boxes are in the input tensor's frame: scale them to the original photo (detector_postprocess), and clip.
        int width = geometry.OriginalWidth;
        int height = geometry.OriginalHeight;
        float scaleX = (float)width / imageSize[1];
        float scaleY = (float)height / imageSize[0];
        int size = (int)maskShape[2];
        ReadOnlySpan<float> masks = outputs[2].GetTensorDataAsSpan<float>();
        foreach (int k in Order(scores, classes, classCount, options))
        {
            float x1 = Math.Clamp(boxes[k * 4] * scaleX, 0, width);
            float y1 = Math.Clamp(boxes[(k * 4) + 1] * scaleY, 0, height);
            float x2 = Math.Clamp(boxes[(k * 4) + 2] * scaleX, 0, width);
            float y2 = Math.Clamp(boxes[(k * 4) + 3] * scaleY, 0, height);
            if (!(x2 > x1) || !(y2 > y1))
            {
                continue;
            }

            CocoRle mask = RoiMaskPaster.Paste(masks.Slice(k * size * size, size * size), size, x1, y1, x2, y2, width, height, options.MaskThreshold);
            objects.Add(new DetectedObject((int)classes[k], scores[k], x1, y1, x2, y2, mask));
        }

        return objects;
    }

    /// <summary>Indices kept, best score first: above the score threshold, of the wanted classes, at most the maximum.</summary>
    private static List<int> Order(ReadOnlySpan<float> scores, ReadOnlySpan<long> classes, int classCount, InstanceOptions options)
    {
        var kept = new List<int>();
        for (int k = 0; k < scores.Length; k++)
        {
            long id = classes[k];
            if ((ulong)id >= (ulong)classCount)
            {
                throw new ModelOutputException($"The model produced class {id}, outside 0–{classCount - 1} of the manifest's classes.");
            }

            if (scores[k] >= options.ScoreThreshold && (options.Classes is null || options.Classes.Contains((int)id)))
            {
                kept.Add(k);
            }
        }

        // Stable: equal scores keep the model's order.
        float[] copy = scores.ToArray();
        kept.Sort((a, b) => copy[b].CompareTo(copy[a]) is int c and not 0 ? c : a.CompareTo(b));
        if (kept.Count > options.MaxInstances)
        {
            kept.RemoveRange(options.MaxInstances, kept.Count - options.MaxInstances);
        }

        return kept;
    }

    /// <summary>A full-size probability mask, thresholded (strictly greater, as torchvision's reference) inside a window, into RLE.</summary>
    private static CocoRle Threshold(ReadOnlySpan<float> mask, int width, int height, int xs, int xe, int ys, int ye, float threshold)
    {
        var runs = new RleBuilder(height, width);
        for (int x = xs; x < xe; x++)
        {
            for (int y = ys; y < ye; y++)
            {
                if (mask[(y * width) + x] > threshold)
                {
                    runs.Set(((long)x * height) + y);
                }
            }
        }

        return runs.Build();
    }
}
