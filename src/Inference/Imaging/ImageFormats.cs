using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Gif;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Pbm;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tga;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Memory;
using SixLabors.ImageSharp.Metadata;

namespace SegServe.Inference.Imaging;

/// <summary>
/// The formats a deployment accepts (<c>Inference:Images:Formats</c>), how an upload's format is sniffed, and the
/// ImageSharp configuration that decodes them: only the accepted formats' decoders, each set to do the least a
/// stranger can make it do (first frame only, no metadata parsed: text chunks are not inflated, EXIF is not walked).
/// </summary>
public sealed class ImageFormats
{
    /// <summary>The setting that lists the accepted formats, for messages.</summary>
    public const string Setting = "Inference:Images:Formats";

    /// <summary>Accepted when <see cref="ImageLimits.Formats"/> is not set: the formats of photos, and nothing animated.</summary>
    public static readonly IReadOnlyList<string> DefaultAccepted = ["JPEG", "PNG", "WebP"];

    // Every format the service can read, by the name the setting uses; working memory is the decoder's own beyond the
    // RGB24 result, in bytes per pixel of the image, at its worst (see WorkingBytesPerPixel).
    private static readonly Known[] s_known =
    [
        new("JPEG", JpegFormat.Instance, new JpegConfigurationModule(), new JpegDecoder { IgnoreMetadata = true }, 8),
        new("PNG", PngFormat.Instance, new PngConfigurationModule(), new PngDecoder { IgnoreMetadata = true }, 0),
        new("WebP", WebpFormat.Instance, new WebpConfigurationModule(), new WebpDecoder { IgnoreMetadata = true }, 8),
        new("GIF", GifFormat.Instance, new GifConfigurationModule(), new GifDecoder { IgnoreMetadata = true, DecodingMode = FrameDecodingMode.First }, 1),
        new("TIFF", TiffFormat.Instance, new TiffConfigurationModule(), new TiffDecoder { IgnoreMetadata = true, DecodingMode = FrameDecodingMode.First }, 8),
        new("BMP", BmpFormat.Instance, new BmpConfigurationModule(), new BmpDecoder(), 4),
        new("TGA", TgaFormat.Instance, new TgaConfigurationModule(), new TgaDecoder(), 4),
        new("PBM", PbmFormat.Instance, new PbmConfigurationModule(), new PbmDecoder(), 6),
    ];

    // Sniffing knows every format, so that a known format that is not accepted is named as such (415 with the list)
    // rather than called "not an image".
    private static readonly Configuration s_sniffing = new([.. Array.ConvertAll(s_known, static k => k.Module)]);

    private readonly Known[] _accepted;

    /// <summary>The accepted formats, with decoders bounded by <paramref name="maxPixels"/>.</summary>
    /// <exception cref="ArgumentException">A name is not a format the service reads, or the list is empty.</exception>
    public ImageFormats(IEnumerable<string>? accepted, long maxPixels, int poolMegabytes = ImagingMemory.DefaultPoolMegabytes)
    {
        string? error = Validate(accepted);
        if (error is not null)
        {
            throw new ArgumentException(error, nameof(accepted));
        }

        var list = new List<Known>();
        foreach (string name in accepted ?? DefaultAccepted)
        {
            Known known = Find(name)!;
            if (!list.Contains(known))
            {
                list.Add(known);
            }
        }

        _accepted = [.. list];
        Names = string.Join(", ", Array.ConvertAll(_accepted, static k => k.Name));

        // Every buffer a decoder asks for is bounded by the pixel limit (8 bytes a pixel: the widest a decoder holds in
        // one piece, a 16-bit RGBA TIFF strip), so a header that lies about its size fails its allocation, not the process.
        long limitMegabytes = Math.Clamp((maxPixels * 8 / (1024 * 1024)) + 1, 16, int.MaxValue);
        Configuration = new Configuration([.. Array.ConvertAll(_accepted, static k => k.Module)])
        {
            MemoryAllocator = MemoryAllocator.Create(new MemoryAllocatorOptions
            {
                AllocationLimitMegabytes = (int)limitMegabytes,
                MaximumPoolSizeMegabytes = poolMegabytes,
            }),
        };
        foreach (Known known in _accepted)
        {
            Configuration.ImageFormatsManager.SetDecoder(known.Format, known.Decoder);
        }
    }

    /// <summary>The accepted formats as the setting names them, comma-separated.</summary>
    public string Names { get; }

    /// <summary>The configuration that decodes the accepted formats, and nothing else.</summary>
    public Configuration Configuration { get; }

    /// <summary>Null when every name is a format the service reads and the list is not empty; otherwise why not.</summary>
    public static string? Validate(IEnumerable<string>? names)
    {
        if (names is null)
        {
            return null;
        }

        int count = 0;
        foreach (string name in names)
        {
            count++;
            if (Find(name) is null)
            {
                return $"{Setting} lists '{name}', which is not a format the service reads; it reads {string.Join(", ", Array.ConvertAll(s_known, static k => k.Name))}.";
            }
        }

        return count == 0 ? $"{Setting} is empty; list at least one format (the default is {string.Join(", ", DefaultAccepted)})." : null;
    }

    /// <summary>The most bytes a pixel may cost while any of the named formats is decoded (result included).</summary>
    public static int WorstBytesPerPixel(IEnumerable<string>? names, bool transposed)
    {
        int worst = 0;
        foreach (string name in names ?? DefaultAccepted)
        {
            worst = Math.Max(worst, Find(name)?.WorkingBytesPerPixel ?? 0);
        }

        return BytesPerPixel(worst, transposed);
    }

    /// <summary>
    /// What one pixel of an image in <paramref name="format"/> costs from the start of its decode until the request lets
    /// it go: the RGB24 result (3), the decoder's working memory at its worst (JPEG: a progressive scan's coefficients,
    /// 2 bytes × up to 4 components; WebP: the lossless ARGB buffer and its transform; TIFF: a single-strip 16-bit RGBA
    /// image; PBM: 16-bit RGB samples; BMP/TGA: an RLE image expanded whole; GIF: the frame's palette indices; PNG:
    /// rows only), and, when the EXIF orientation turns the image by 90°, the turned copy (3).
    /// </summary>
    public static int BytesPerPixel(IImageFormat format, bool transposed) =>
        BytesPerPixel(Array.Find(s_known, k => k.Format == format)?.WorkingBytesPerPixel ?? 8, transposed);

    /// <summary>The format of the bytes, sniffed from their first bytes among every format the service knows.</summary>
    /// <exception cref="ImageRejectedException">Not an image the service knows, or a known format this deployment does not accept.</exception>
    public IImageFormat Sniff(ReadOnlySpan<byte> encoded)
    {
        IImageFormat? format = Image.DetectFormat(s_sniffing, encoded);
        if (format is null)
        {
            throw new ImageRejectedException(
                ImageRejection.UnsupportedFormat,
                $"The upload is not an image in a supported format ({Names}).");
        }

        foreach (Known known in _accepted)
        {
            if (known.Format == format)
            {
                return format;
            }
        }

        throw new ImageRejectedException(
            ImageRejection.FormatNotAccepted,
            $"{Find(format.Name)?.Name ?? format.Name} is not accepted here; accepted: {Names} ({Setting}).");
    }

    /// <summary>The decoder of an accepted format.</summary>
    public IImageDecoder DecoderOf(IImageFormat format) => Configuration.ImageFormatsManager.FindDecoder(format);

    // The request's own planes while it holds the image, in bytes per pixel: the class map and a foreground mask (1 each),
    // the map's encoding (2), an overlay's RGB composite (3) and its encoder (1). Counting them keeps the budget a bound
    // on a request's memory, not only on its decoder's: without them, four 40 MP PNGs were admitted together and took
    // the service past 1.6 GB (scripts/hostile.sh, docs/reliability.md).
    internal const int RequestBytesPerPixel = 8;

    private static int BytesPerPixel(int working, bool transposed) => 3 + working + RequestBytesPerPixel + (transposed ? 3 : 0);

    private static Known? Find(string name) => Array.Find(s_known, k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase));

    private sealed record Known(string Name, IImageFormat Format, IConfigurationModule Module, IImageDecoder Decoder, int WorkingBytesPerPixel);
}
