using SegServe.Inference.Decoding;
using SegServe.Inference.Instances;
using SegServe.Inference.Pipeline;

namespace SegServe.Inference.Encoding;

/// <summary>A class present in a class map.</summary>
/// <param name="Id">Class index.</param>
/// <param name="Name">Class name.</param>
/// <param name="Pixels">Pixels labelled with this class.</param>
/// <param name="Fraction">Share of the image's pixels, rounded to 6 decimals.</param>
public sealed record ClassArea(int Id, string Name, long Pixels, double Fraction);

/// <summary>A semantic result encoded for a JSON response.</summary>
/// <param name="ClassMapPng">Class indices as a greyscale PNG.</param>
/// <param name="BitDepth">8, or 16 above 256 classes.</param>
/// <param name="ConfidencePng">The probability of each pixel's class as an 8-bit PNG, when it was computed.</param>
/// <param name="Classes">The classes present, by id.</param>
public sealed record EncodedClassMap(byte[] ClassMapPng, int BitDepth, byte[]? ConfidencePng, IReadOnlyList<ClassArea> Classes);

/// <summary>What an instance response carries besides each object's RLE mask.</summary>
/// <param name="Polygons">Each part's outer ring and holes.</param>
/// <param name="CroppedMask">The mask over its bounding rectangle as a PNG.</param>
/// <param name="Tolerance">Douglas–Peucker tolerance of the polygons, in pixels (0 keeps every corner).</param>
public sealed record InstanceExtras(bool Polygons = false, bool CroppedMask = false, double Tolerance = InstanceExtras.DefaultTolerance)
{
    /// <summary>The default polygon tolerance: keeps the rasterised polygons within about 2% of the mask.</summary>
    public const double DefaultTolerance = 0.5;

    /// <summary>The largest tolerance accepted.</summary>
    public const double MaxTolerance = 100;
}

/// <summary>A mask cropped to its bounding rectangle.</summary>
/// <param name="X">Left of the rectangle in the image.</param>
/// <param name="Y">Top of the rectangle.</param>
/// <param name="Width">Width of the rectangle.</param>
/// <param name="Height">Height of the rectangle.</param>
/// <param name="Png">The rectangle as an 8-bit greyscale PNG, 255 inside the mask.</param>
public sealed record CroppedMask(int X, int Y, int Width, int Height, byte[] Png);

/// <summary>One object encoded for a JSON response.</summary>
/// <param name="Detection">The object as decoded.</param>
/// <param name="ClassName">Its class's name.</param>
/// <param name="Rle">Its mask as a COCO compressed RLE string.</param>
/// <param name="Polygons">Its outline, when asked for.</param>
/// <param name="Crop">Its cropped mask, when asked for (null for an empty mask).</param>
public sealed record EncodedInstance(DetectedObject Detection, string ClassName, string Rle, IReadOnlyList<MaskPolygon>? Polygons, CroppedMask? Crop);

/// <summary>
/// Where a result becomes bytes for a response: class maps and confidence as greyscale PNGs, instances as RLE strings,
/// polygons and cropped PNGs, or a 16-bit instance-id PNG. Each call is timed as the request's encode stage.
/// </summary>
public static class SegmentationEncoder
{
    /// <summary>The class-index PNG alone (for <c>Accept: image/png</c>).</summary>
    public static byte[] ClassMapPng(SemanticSegmentation result)
    {
        ArgumentNullException.ThrowIfNull(result);
        result.Timer.Restart();
        byte[] png = MapEncoder.EncodeClassMap(result.Map);
        result.Timer.EndEncode();
        return png;
    }

    /// <summary>The class map, its confidence (when computed) and the classes present.</summary>
    public static EncodedClassMap Encode(SemanticSegmentation result, IReadOnlyList<string> classNames)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(classNames);
        result.Timer.Restart();
        ClassMap map = result.Map;
        byte[] classMap = MapEncoder.EncodeClassMap(map);
        byte[]? confidence = map.Confidence is null ? null : MapEncoder.EncodeConfidence(map);
        var classes = new List<ClassArea>();
        double total = (double)map.Width * map.Height;
        for (int id = 0; id < map.PixelCounts.Length; id++)
        {
            long count = map.PixelCounts[id];
            if (count > 0)
            {
                classes.Add(new ClassArea(id, classNames[id], count, Math.Round(count / total, 6)));
            }
        }

        result.Timer.EndEncode();
        return new EncodedClassMap(classMap, MapEncoder.ClassMapBitDepth(map.ClassCount), confidence, classes);
    }

    /// <summary>A 16-bit PNG of instance ids (1 = best score, 0 = none).</summary>
    public static byte[] InstanceIdsPng(InstanceSegmentation result)
    {
        ArgumentNullException.ThrowIfNull(result);
        result.Timer.Restart();
        var masks = new Masks.CocoRle[result.Objects.Count];
        for (int i = 0; i < masks.Length; i++)
        {
            masks[i] = result.Objects[i].Mask;
        }

        byte[] png = MapEncoder.EncodeInstanceIds(masks, result.Image.Height, result.Image.Width);
        result.Timer.EndEncode();
        return png;
    }

    /// <summary>Each object's RLE string and the extras asked for, best score first.</summary>
    public static IReadOnlyList<EncodedInstance> Encode(InstanceSegmentation result, IReadOnlyList<string> classNames, InstanceExtras extras)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(classNames);
        ArgumentNullException.ThrowIfNull(extras);
        result.Timer.Restart();
        var instances = new EncodedInstance[result.Objects.Count];
        for (int i = 0; i < instances.Length; i++)
        {
            DetectedObject o = result.Objects[i];
            IReadOnlyList<MaskPolygon>? polygons = extras.Polygons ? MaskPolygons.Trace(o.Mask, extras.Tolerance) : null;
            CroppedMask? crop = extras.CroppedMask && MapEncoder.EncodeCroppedMask(o.Mask) is { } c ? new CroppedMask(c.X, c.Y, c.Width, c.Height, c.Png) : null;
            instances[i] = new EncodedInstance(o, classNames[o.ClassId], o.Mask.ToCompressedString(), polygons, crop);
        }

        result.Timer.EndEncode();
        return instances;
    }
}
