using System.Text.Json;
using SegServe.Inference.Masks;
using SegServe.Inference.Memory;

namespace SegServe.Inference.Evaluation.Instances;

/// <summary>COCO ground truth read from an annotations file: its images, categories and instances.</summary>
public sealed record CocoGroundTruth(
    IReadOnlyList<long> ImageIds,
    IReadOnlyDictionary<long, (int Height, int Width)> ImageSizes,
    IReadOnlyList<long> CategoryIds,
    IReadOnlyDictionary<long, string> CategoryNames,
    IReadOnlyList<GroundTruthInstance> Instances);

/// <summary>
/// Reads the JSON files of instance evaluation: COCO annotations (polygons, compressed or uncompressed RLE,
/// <c>iscrowd</c>, <c>area</c>), COCO results (<c>[{image_id, category_id, segmentation, score}]</c>), and this
/// service's own instance responses (<c>{"instances": [{classId, score, mask}]}</c>).
/// </summary>
public static class CocoJson
{
    public static CocoGroundTruth ReadGroundTruth(ReadOnlyMemory<byte> json, string name)
    {
        using JsonDocument document = Parse(json, name);
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("annotations", out JsonElement annotations) || !root.TryGetProperty("images", out JsonElement images))
        {
            throw new EvaluationInputException($"{name} is not a COCO annotations file: it needs 'images' and 'annotations' (and 'categories').", unreadable: true);
        }

        var sizes = new Dictionary<long, (int, int)>();
        var imageIds = new List<long>();
        foreach (JsonElement image in images.EnumerateArray())
        {
            long id = Number(image, "id", name);
            sizes[id] = ((int)Number(image, "height", name), (int)Number(image, "width", name));
            imageIds.Add(id);
        }

        var categoryIds = new List<long>();
        var categoryNames = new Dictionary<long, string>();
        if (root.TryGetProperty("categories", out JsonElement categories))
        {
            foreach (JsonElement category in categories.EnumerateArray())
            {
                long id = Number(category, "id", name);
                categoryIds.Add(id);
                categoryNames[id] = category.TryGetProperty("name", out JsonElement n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        var instances = new List<GroundTruthInstance>();
        int index = 0;
        foreach (JsonElement annotation in annotations.EnumerateArray())
        {
            string where = $"{name} annotations[{index++}]";
            long imageId = Number(annotation, "image_id", where);
            if (!sizes.TryGetValue(imageId, out (int Height, int Width) size))
            {
                throw new EvaluationInputException($"{where} refers to image {imageId}, which is not in 'images'.");
            }

            long categoryId = Number(annotation, "category_id", where);
            if (categories.ValueKind == JsonValueKind.Undefined && !categoryIds.Contains(categoryId))
            {
                categoryIds.Add(categoryId);
            }

            bool crowd = annotation.TryGetProperty("iscrowd", out JsonElement c) && c.ValueKind == JsonValueKind.Number && c.GetInt32() != 0;
            if (!annotation.TryGetProperty("segmentation", out JsonElement segmentation))
            {
                throw new EvaluationInputException($"{where} has no 'segmentation'.");
            }

            CocoRle mask = ReadSegmentation(segmentation, size.Height, size.Width, where);
            double area = annotation.TryGetProperty("area", out JsonElement a) && a.ValueKind == JsonValueKind.Number ? a.GetDouble() : mask.Area;
            long id = annotation.TryGetProperty("id", out JsonElement i) && i.ValueKind == JsonValueKind.Number ? i.GetInt64() : index;
            instances.Add(new GroundTruthInstance(id, imageId, categoryId, mask, area, crowd));
        }

        imageIds.Sort();
        categoryIds.Sort();
        return new CocoGroundTruth(imageIds, sizes, categoryIds, categoryNames, instances);
    }

    /// <summary>Detections from COCO results or from this service's instance response (then all on <paramref name="defaultImageId"/>).</summary>
    public static List<DetectedInstance> ReadDetections(ReadOnlyMemory<byte> json, string name, IReadOnlyDictionary<long, (int Height, int Width)> imageSizes, long defaultImageId)
    {
        ArgumentNullException.ThrowIfNull(imageSizes);
        using JsonDocument document = Parse(json, name);
        JsonElement root = document.RootElement;
        var detections = new List<DetectedInstance>();
        if (root.ValueKind == JsonValueKind.Array)
        {
            int index = 0;
            foreach (JsonElement result in root.EnumerateArray())
            {
                string where = $"{name}[{index++}]";
                long imageId = Number(result, "image_id", where);
                if (!imageSizes.TryGetValue(imageId, out (int Height, int Width) size))
                {
                    throw new EvaluationInputException($"{where} is for image {imageId}, which the ground truth does not have (results must be a subset of the ground truth's images).");
                }

                if (!result.TryGetProperty("segmentation", out JsonElement segmentation))
                {
                    throw new EvaluationInputException($"{where} has no 'segmentation' (mask results are needed for mask AP).");
                }

                detections.Add(new DetectedInstance(imageId, Number(result, "category_id", where), ReadSegmentation(segmentation, size.Height, size.Width, where), Score(result, where)));
            }

            return detections;
        }

        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("instances", out JsonElement instances))
        {
            if (!imageSizes.TryGetValue(defaultImageId, out (int Height, int Width) size))
            {
                throw new EvaluationInputException($"{name} is a segment response, scored as image {defaultImageId}, which the ground truth does not have: set imageId.");
            }

            int index = 0;
            foreach (JsonElement instance in instances.EnumerateArray())
            {
                string where = $"{name} instances[{index++}]";
                if (!instance.TryGetProperty("mask", out JsonElement mask))
                {
                    throw new EvaluationInputException($"{where} has no 'mask'.");
                }

                detections.Add(new DetectedInstance(defaultImageId, Number(instance, "classId", where), ReadSegmentation(mask, size.Height, size.Width, where), Score(instance, where)));
            }

            return detections;
        }

        throw new EvaluationInputException($"{name} is neither COCO results (a JSON array) nor a segment response with 'instances'.", unreadable: true);
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> json, string name)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw new EvaluationInputException($"{name} is not valid JSON: {ex.Message}", unreadable: true);
        }
    }

    private static CocoRle ReadSegmentation(JsonElement segmentation, int height, int width, string where)
    {
        try
        {
            if (segmentation.ValueKind == JsonValueKind.Array)
            {
                var polygons = new List<IReadOnlyList<double>>();
                foreach (JsonElement polygon in segmentation.EnumerateArray())
                {
                    var points = new List<double>();
                    foreach (JsonElement value in polygon.EnumerateArray())
                    {
                        points.Add(value.GetDouble());
                    }

                    polygons.Add(points);
                }

                return CocoRle.FromPolygons(polygons, height, width);
            }

            if (segmentation.ValueKind == JsonValueKind.Object && segmentation.TryGetProperty("counts", out JsonElement counts) && segmentation.TryGetProperty("size", out JsonElement sizeElement))
            {
                int h = sizeElement[0].GetInt32();
                int w = sizeElement[1].GetInt32();
                if (h != height || w != width)
                {
                    throw new EvaluationInputException($"{where}: the mask is {w}×{h} (size [h, w] = [{h}, {w}]) but its image is {width}×{height}.");
                }

                if (counts.ValueKind == JsonValueKind.String)
                {
                    return CocoRle.FromCompressedString(counts.GetString()!, h, w);
                }

                var values = new List<long>();
                foreach (JsonElement value in counts.EnumerateArray())
                {
                    values.Add(value.GetInt64());
                }

                return CocoRle.FromCounts(values, h, w);
            }
        }
        catch (Exception ex) when (ex is FormatException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new EvaluationInputException($"{where}: the segmentation cannot be read: {ex.Message}");
        }

        throw new EvaluationInputException($"{where}: 'segmentation' must be polygons ([[x, y, …], …]) or an RLE ({{\"size\": [h, w], \"counts\": …}}).");
    }

    private static long Number(JsonElement element, string property, string where) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long number)
            ? number
            : throw new EvaluationInputException($"{where} needs a whole number '{property}'.");

    private static double Score(JsonElement element, string where) =>
        element.TryGetProperty("score", out JsonElement value) && value.ValueKind == JsonValueKind.Number
            ? value.GetDouble()
            : throw new EvaluationInputException($"{where} needs a numeric 'score'.");

    /// <summary>
    /// Ground truth from a 16-bit instance-id map (0 = no instance) and a class map: each instance's category is the
    /// class most of its pixels have; none is a crowd; areas are pixel counts.
    /// </summary>
    public static CocoGroundTruth FromInstanceMaps(Plane<ushort> instanceIds, Plane<ushort> classes, long imageId)
    {
        ArgumentNullException.ThrowIfNull(instanceIds);
        ArgumentNullException.ThrowIfNull(classes);
        if (instanceIds.Width != classes.Width || instanceIds.Height != classes.Height)
        {
            throw new EvaluationInputException(
                $"The instance map is {instanceIds.Width}×{instanceIds.Height} but the class map is {classes.Width}×{classes.Height}; they must have the same size.");
        }

        int height = instanceIds.Height;
        int width = instanceIds.Width;
        var positions = new SortedDictionary<int, List<int>>();
        var votes = new Dictionary<int, Dictionary<int, int>>();
        ReadOnlySpan<ushort> ids = instanceIds.Span;
        ReadOnlySpan<ushort> labels = classes.Span;
        for (int x = 0; x < width; x++)
        {
            for (int y = 0; y < height; y++)
            {
                int id = ids[(y * width) + x];
                if (id == 0)
                {
                    continue;
                }

                if (!positions.TryGetValue(id, out List<int>? list))
                {
                    list = [];
                    positions[id] = list;
                    votes[id] = [];
                }

                list.Add((x * height) + y);
                Dictionary<int, int> tally = votes[id];
                int label = labels[(y * width) + x];
                tally[label] = tally.GetValueOrDefault(label) + 1;
            }
        }

        var instances = new List<GroundTruthInstance>();
        var categories = new SortedSet<long>();
        foreach ((int id, List<int> list) in positions)
        {
            int category = votes[id].OrderByDescending(v => v.Value).ThenBy(v => v.Key).First().Key;
            categories.Add(category);
            instances.Add(new GroundTruthInstance(id, imageId, category, CocoRle.FromColumnMajorPositions(list, height, width), list.Count, IsCrowd: false));
        }

        return new CocoGroundTruth([imageId], new Dictionary<long, (int, int)> { [imageId] = (height, width) }, [.. categories], new Dictionary<long, string>(), instances);
    }
}
