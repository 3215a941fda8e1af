using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.Encoding;

/// <summary>The file format of a picture response.</summary>
public enum PictureFormat
{
    Png,
    Jpeg,
}

/// <summary>Encodes overlay and portrait pictures as PNG or JPEG.</summary>
public static class PictureEncoder
{
    public const string PngMediaType = "image/png";
    public const string JpegMediaType = "image/jpeg";

    private static readonly JpegEncoder s_jpeg = new() { Quality = 90, ColorType = JpegColorType.YCbCrRatio420 };

    // Colour type set explicitly: ImageSharp would otherwise keep the upload's (a grey photo would lose its overlay colours).
    // Fastest deflate and the Sub filter: pictures are large and sent once, so encode time beats a few per cent of size.
    private static readonly PngEncoder s_png = new() { ColorType = PngColorType.Rgb, BitDepth = PngBitDepth.Bit8, CompressionLevel = PngCompressionLevel.BestSpeed, FilterMethod = PngFilterMethod.Sub };
    private static readonly PngEncoder s_pngWithAlpha = new() { ColorType = PngColorType.RgbWithAlpha, BitDepth = PngBitDepth.Bit8, CompressionLevel = PngCompressionLevel.BestSpeed, FilterMethod = PngFilterMethod.Sub };

    public static string MediaType(PictureFormat format) => format == PictureFormat.Jpeg ? JpegMediaType : PngMediaType;

    /// <summary>The longest side ImageSharp 2.1 encodes as JPEG (the frame header holds 16-bit sizes; it refuses 65,535 too).</summary>
    public const int MaxJpegSide = 65_534;

    /// <summary>An RGB picture as <paramref name="format"/>.</summary>
    /// <exception cref="InvalidOptionException">JPEG was asked for a picture with a side over <see cref="MaxJpegSide"/>.</exception>
    public static byte[] Encode(Image<Rgb24> image, PictureFormat format)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (format == PictureFormat.Jpeg && Math.Max(image.Width, image.Height) > MaxJpegSide)
        {
            throw new InvalidOptionException(
                "format",
                "jpeg",
                $"A JPEG cannot be {image.Width}×{image.Height}: its sides are at most {MaxJpegSide} pixels. Ask for format=png.");
        }

        return Save(image, format == PictureFormat.Jpeg ? s_jpeg : s_png);
    }

    /// <summary>An RGBA picture as PNG (JPEG has no alpha).</summary>
    public static byte[] EncodePng(Image<Rgba32> image) => Save(image, s_pngWithAlpha);

    private static byte[] Save(Image image, IImageEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }
}
