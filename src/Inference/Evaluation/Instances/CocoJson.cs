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
    /// <summary>
    /// How far outside its image a polygon may reach, in multiples of the image's larger side: coordinates within
    /// [−2·S, w + 2·S] × [−2·S, h + 2·S] (S = max(w, h)) are clipped to the image; beyond is an error (422).
    /// </summary>
    public const int PolygonReach = 2;

    /// <summary>Most run lengths all masks of one file may hold together (RLE counts read, polygon column crossings): 16 Mi.</summary>
    public const long MaxMaskRuns = 1 << 24;

    /// <summary>Reads COCO ground truth within the default limits (40 megapixels per image, 4,096 categories).</summary>
    public static CocoGroundTruth ReadGroundTruth(ReadOnlyMemory<byte> json, string name) =>
        ReadGroundTruth(json, name, new ImageLimits().MaxPixels, ScoringSettings.MaxClasses);

    /// <summary>Reads COCO ground truth.</summary>
    /// <param name="json">The annotations file.</param>
    /// <param name="name">The file's name in messages.</param>
    /// <param name="maxPixels">Largest image (width × height) an entry of <c>images</c> may declare.</param>
    /// <param name="maxCategories">Most categories the file may have.</param>
    /// <exception cref="EvaluationInputException">
    /// Not JSON or not shaped as COCO annotations (unreadable, 400); a value of the wrong type or out of range, or
    /// annotations that do not fit their image (422). The message names the JSON path.
    /// </exception>
    public static CocoGroundTruth ReadGroundTruth(ReadOnlyMemory<byte> json, string name, long maxPixels, int maxCategories)
    {
        using JsonDocument document = Parse(json, name);
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("annotations", out JsonElement annotations) || !root.TryGetProperty("images", out JsonElement images))
        {
            throw new EvaluationInputException($"{name} is not a COCO annotations file: it needs 'images' and 'annotations' (and 'categories').", unreadable: true);
        }

        long pixelLimit = Math.Min(maxPixels, int.MaxValue);
        var sizes = new Dictionary<long, (int, int)>();
        var imageIds = new List<long>();
        int index = 0;
        foreach (JsonElement image in Items(images, $"{name} images"))
        {
            string where = $"{name} images[{index++}]";
            long id = Number(image, "id", where);
            int height = Size(image, "height", where);
            int width = Size(image, "width", where);
            if ((long)height * width > pixelLimit)
            {
                throw new EvaluationInputException($"{where} is {width}×{height} = {(long)height * width} pixels; the limit is {pixelLimit} pixels.");
            }

            if (!sizes.TryAdd(id, (height, width)))
            {
                throw new EvaluationInputException($"{where}.id: image {id} is listed twice.");
            }

            imageIds.Add(id);
        }

        var categoryIds = new List<long>();
        var categorySet = new HashSet<long>();
        var categoryNames = new Dictionary<long, string>();
        bool listed = root.TryGetProperty("categories", out JsonElement categories);
        if (listed)
        {
            index = 0;
            foreach (JsonElement category in Items(categories, $"{name} categories"))
            {
                string where = $"{name} categories[{index++}]";
                long id = Number(category, "id", where);
                if (!categorySet.Add(id))
                {
                    throw new EvaluationInputException($"{where}.id: category {id} is listed twice.");
                }

                AddCategory(categoryIds, id, maxCategories, where);
                categoryNames[id] = category.TryGetProperty("name", out JsonElement n) && n.ValueKind == JsonValueKind.String ? Text(n, $"{where}.name") : id.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        var instances = new List<GroundTruthInstance>();
        long runs = MaxMaskRuns;
        index = 0;
        foreach (JsonElement annotation in Items(annotations, $"{name} annotations"))
        {
            string where = $"{name} annotations[{index++}]";
            long imageId = Number(annotation, "image_id", where);
            if (!sizes.TryGetValue(imageId, out (int Height, int Width) size))
            {
                throw new EvaluationInputException($"{where} refers to image {imageId}, which is not in 'images'.");
            }

            long categoryId = Number(annotation, "category_id", where);
            if (!listed && categorySet.Add(categoryId))
            {
                AddCategory(categoryIds, categoryId, maxCategories, $"{where}.category_id");
            }

            bool crowd = Crowd(annotation, where);
            if (!annotation.TryGetProperty("segmentation", out JsonElement segmentation))
            {
                throw new EvaluationInputException($"{where} has no 'segmentation'.");
            }

            CocoRle mask = ReadSegmentation(segmentation, size.Height, size.Width, $"{where}.segmentation", ref runs);
            double area = annotation.TryGetProperty("area", out JsonElement a) ? Area(a, $"{where}.area") : mask.Area;
            long id = annotation.TryGetProperty("id", out _) ? Number(annotation, "id", where) : index;
            instances.Add(new GroundTruthInstance(id, imageId, categoryId, mask, area, crowd));
        }

        imageIds.Sort();
        categoryIds.Sort();
        return new CocoGroundTruth(imageIds, sizes, categoryIds, categoryNames, instances);
    }

    /// <summary>Detections from COCO results or from this service's instance response (then all on <paramref name="defaultImageId"/>).</summary>
    /// <exception cref="EvaluationInputException">Not JSON or neither shape (400); a value of the wrong type or out of range (422), named by its JSON path.</exception>
    public static List<DetectedInstance> ReadDetections(ReadOnlyMemory<byte> json, string name, IReadOnlyDictionary<long, (int Height, int Width)> imageSizes, long defaultImageId)
    {
        ArgumentNullException.ThrowIfNull(imageSizes);
        using JsonDocument document = Parse(json, name);
        JsonElement root = document.RootElement;
        var detections = new List<DetectedInstance>();
        long runs = MaxMaskRuns;
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

                long categoryId = Number(result, "category_id", where);
                double score = Score(result, where);
                detections.Add(new DetectedInstance(imageId, categoryId, ReadSegmentation(segmentation, size.Height, size.Width, $"{where}.segmentation", ref runs), score));
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
            foreach (JsonElement instance in Items(instances, $"{name} instances"))
            {
                string where = $"{name} instances[{index++}]";
                if (instance.ValueKind != JsonValueKind.Object || !instance.TryGetProperty("mask", out JsonElement mask))
                {
                    throw new EvaluationInputException($"{where} has no 'mask'.");
                }

                long classId = Number(instance, "classId", where);
                double score = Score(instance, where);
                detections.Add(new DetectedInstance(defaultImageId, classId, ReadSegmentation(mask, size.Height, size.Width, $"{where}.mask", ref runs), score));
            }

            return detections;
        }

        throw new EvaluationInputException($"{name} is neither COCO results (a JSON array) nor a segment response with 'instances'.", unreadable: true);
    }

    private static JsonDocument Parse(ReadOnlyMemory<byte> json, string name)
    {
        if (!System.Text.Unicode.Utf8.IsValid(json.Span))
        {
            throw new EvaluationInputException($"{name} is not valid JSON: it is not UTF-8 text.", unreadable: true);
        }

        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 16 });
        }
        catch (JsonException ex)
        {
            throw new EvaluationInputException($"{name} is not valid JSON: {ex.Message}", unreadable: true);
        }
    }

    /// <summary>The elements of what must be a JSON array (else the file is not shaped as it should be: 400).</summary>
    private static JsonElement.ArrayEnumerator Items(JsonElement element, string path, bool unreadable = true) =>
        element.ValueKind == JsonValueKind.Array
            ? element.EnumerateArray()
            : throw new EvaluationInputException($"{path} must be an array, not {Kind(element)}.", unreadable);

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };

    private static void AddCategory(List<long> categoryIds, long id, int maxCategories, string where)
    {
        if (categoryIds.Count >= maxCategories)
        {
            throw new EvaluationInputException($"{where}: the file has more than {maxCategories} categories, the limit.");
        }

        categoryIds.Add(id);
    }

    private static CocoRle ReadSegmentation(JsonElement segmentation, int height, int width, string where, ref long runs)
    {
        CocoRle mask;
        try
        {
            if (segmentation.ValueKind == JsonValueKind.Array)
            {
                mask = CocoRle.FromPolygons(Polygons(segmentation, height, width, where), height, width, runs);
            }
            else if (segmentation.ValueKind == JsonValueKind.Object && segmentation.TryGetProperty("counts", out JsonElement counts) && segmentation.TryGetProperty("size", out JsonElement sizeElement))
            {
                if (sizeElement.ValueKind != JsonValueKind.Array || sizeElement.GetArrayLength() != 2
                    || !WholeNumber(sizeElement[0], out long h) || !WholeNumber(sizeElement[1], out long w))
                {
                    throw new EvaluationInputException($"{where}.size must be [height, width], two whole numbers.");
                }

                if (h != height || w != width)
                {
                    throw new EvaluationInputException($"{where}: the mask is {w}×{h} (size [h, w] = [{h}, {w}]) but its image is {width}×{height}.");
                }

                mask = counts.ValueKind switch
                {
                    JsonValueKind.String => CompressedRle(Text(counts, $"{where}.counts"), height, width, runs, where),
                    JsonValueKind.Array => CocoRle.FromCounts(Counts(counts, $"{where}.counts"), height, width),
                    _ => throw new EvaluationInputException($"{where}.counts must be a string (compressed RLE) or an array of run lengths, not {Kind(counts)}."),
                };
            }
            else
            {
                throw new EvaluationInputException($"{where} must be polygons ([[x, y, …], …]) or an RLE ({{\"size\": [h, w], \"counts\": …}}).");
            }
        }
        catch (FormatException ex)
        {
            throw new EvaluationInputException($"{where} cannot be read: {ex.Message}");
        }

        runs -= mask.Counts.Length;
        if (runs < 0)
        {
            throw new EvaluationInputException($"{where}: the masks of the file hold more than {MaxMaskRuns} runs.");
        }

        return mask;
    }

    private static CocoRle CompressedRle(string counts, int height, int width, long runs, string where) =>
        counts.Length <= runs * 13
            ? CocoRle.FromCompressedString(counts, height, width)
            : throw new EvaluationInputException($"{where}.counts: the masks of the file hold more than {MaxMaskRuns} runs.");

    /// <summary>A JSON string's text; one that is not valid UTF-8 (or escapes a lone surrogate) is unreadable.</summary>
    private static string Text(JsonElement value, string where)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException ex)
        {
            throw new EvaluationInputException($"{where} is not a valid string: {ex.Message}", unreadable: true);
        }
    }

    /// <summary>Polygons as numbers; a coordinate beyond <see cref="PolygonReach"/> image sizes outside the image is an error.</summary>
    private static List<IReadOnlyList<double>> Polygons(JsonElement segmentation, int height, int width, string where)
    {
        double reach = (double)PolygonReach * Math.Max(height, width);
        var polygons = new List<IReadOnlyList<double>>();
        int p = 0;
        foreach (JsonElement polygon in segmentation.EnumerateArray())
        {
            string path = $"{where}[{p++}]";
            var points = new List<double>();
            foreach (JsonElement value in Items(polygon, path, unreadable: false))
            {
                if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out double coordinate) || !double.IsFinite(coordinate))
                {
                    throw new EvaluationInputException($"{path}[{points.Count}] must be a number, not {Kind(value)}.");
                }

                double extent = points.Count % 2 == 0 ? width : height;
                if (coordinate < -reach || coordinate > extent + reach)
                {
                    throw new EvaluationInputException(
                        $"{path}[{points.Count}] = {coordinate} is far outside the {width}×{height} image: coordinates must lie within {PolygonReach}× the image's larger side ({reach}) of it.");
                }

                points.Add(coordinate);
            }

            polygons.Add(points);
        }

        return polygons;
    }

    private static List<long> Counts(JsonElement counts, string where)
    {
        var values = new List<long>();
        foreach (JsonElement value in counts.EnumerateArray())
        {
            if (!WholeNumber(value, out long count) || count is < 0 or > uint.MaxValue)
            {
                throw new EvaluationInputException($"{where}[{values.Count}] must be a whole number of pixels (0 to {uint.MaxValue}).");
            }

            values.Add(count);
        }

        return values;
    }

    private static bool WholeNumber(JsonElement value, out long number)
    {
        number = 0;
        return value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out number);
    }

    private static long Number(JsonElement element, string property, string where) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out long number)
            ? number
            : throw new EvaluationInputException($"{where}.{property}: {where} needs a whole number '{property}' (a 64-bit integer).");

    private static int Size(JsonElement image, string property, string where)
    {
        long value = Number(image, property, where);
        return value is >= 1 and <= int.MaxValue
            ? (int)value
            : throw new EvaluationInputException($"{where}.{property} = {value}: an image's {property} must be 1 to {int.MaxValue}.");
    }

    private static bool Crowd(JsonElement annotation, string where)
    {
        if (!annotation.TryGetProperty("iscrowd", out JsonElement value))
        {
            return false;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number when value.TryGetInt32(out int flag) && flag is 0 or 1 => flag == 1,
            _ => throw new EvaluationInputException($"{where}.iscrowd must be 0 or 1."),
        };
    }

    private static double Area(JsonElement value, string where) =>
        value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double area) && double.IsFinite(area) && area >= 0
            ? area
            : throw new EvaluationInputException($"{where} must be a number of pixels, 0 or more.");

    private static double Score(JsonElement element, string where) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty("score", out JsonElement value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out double score) && double.IsFinite(score)
            ? score
            : throw new EvaluationInputException($"{where}.score: {where} needs a numeric 'score'.");

    /// <summary>
    /// Ground truth from a 16-bit instance-id map (0 = no instance) and a class map: each instance's category is the
    /// class most of its pixels have; none is a crowd; areas are pixel counts.
    /// </summary>
    public static CocoGroundTruth FromInstanceMaps(Plane<ushort> instanceIds, Plane<ushort> classes, long imageId) =>
        FromInstanceMaps(instanceIds, classes, imageId, ScoringSettings.MaxClasses);

    /// <summary>Ground truth from an instance-id map and a class map, its instances in at most <paramref name="maxCategories"/> classes.</summary>
    /// <exception cref="EvaluationInputException">The maps differ in size, or the instances have more classes than allowed.</exception>
    public static CocoGroundTruth FromInstanceMaps(Plane<ushort> instanceIds, Plane<ushort> classes, long imageId, int maxCategories)
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
        maxCategories = Math.Max(1, maxCategories);
        foreach ((int id, List<int> list) in positions)
        {
            int category = votes[id].OrderByDescending(v => v.Value).ThenBy(v => v.Key).First().Key;
            if (categories.Add(category) && categories.Count > maxCategories)
            {
                throw new EvaluationInputException($"The class map gives the instances more than {maxCategories} classes, the limit.");
            }

            instances.Add(new GroundTruthInstance(id, imageId, category, CocoRle.FromColumnMajorPositions(list, height, width), list.Count, IsCrowd: false));
        }

        return new CocoGroundTruth([imageId], new Dictionary<long, (int, int)> { [imageId] = (height, width) }, [.. categories], new Dictionary<long, string>(), instances);
    }
}
