using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SegServe.Inference.Imaging;

/// <summary>
/// Turns uploaded bytes into one RGB24 image with EXIF orientation applied. Limits are checked from the header
/// (<see cref="Image.Identify(Configuration, Stream, out IImageFormat)"/>) before the full decode, so an oversized
/// image costs a header read, not its pixels.
/// </summary>
public sealed class ImageDecoder(ImageLimits limits)
{
    private readonly ImageLimits _limits = limits;

    public ImageLimits Limits => _limits;

    /// <summary>Decodes JPEG, PNG (8/16-bit, grey, palette, alpha), BMP, GIF (first frame), WebP, TIFF (first page) and TGA.</summary>
    /// <exception cref="ImageRejectedException">The upload breaks a limit, is not a supported image, or is damaged.</exception>
    public DecodedImage Decode(ReadOnlyMemory<byte> encoded)
    {
        if (encoded.Length == 0)
        {
            throw new ImageRejectedException(ImageRejection.Empty, "The image is empty (0 bytes).");
        }

        if (encoded.Length > _limits.MaxBytes)
        {
            throw new ImageRejectedException(
                ImageRejection.TooManyBytes,
                $"The image is {encoded.Length} bytes; the limit is {_limits.MaxBytes} bytes.");
        }

        using Stream stream = AsStream(encoded);
        Configuration configuration = Configuration.Default;
        IImageInfo? info;
        IImageFormat? format;
        try
        {
            info = Image.Identify(configuration, stream, out format);
        }
        catch (Exception ex) when (IsDecodeFailure(ex))
        {
            throw Classify(ex, format: null);
        }

        if (info is null || format is null)
        {
            throw new ImageRejectedException(
                ImageRejection.UnsupportedFormat,
                "The upload is not an image in a supported format (JPEG, PNG, BMP, GIF, WebP, TIFF, TGA).");
        }

        long pixels = (long)info.Width * info.Height;
        if (info.Width < 1 || info.Height < 1)
        {
            throw new ImageRejectedException(ImageRejection.Corrupt, $"The {format.Name} image declares a size of {info.Width}×{info.Height}.");
        }

        if (pixels > _limits.MaxPixels)
        {
            throw new ImageRejectedException(
                ImageRejection.TooManyPixels,
                $"The image is {info.Width}×{info.Height} = {pixels} pixels; the limit is {_limits.MaxPixels} pixels.");
        }

        stream.Position = 0;
        Image<Rgb24> image;
        try
        {
            // Decoding straight into Rgb24 converts grey, palette, 16-bit and alpha sources once, inside the decoder.
            image = Image.Load<Rgb24>(configuration, stream);
        }
        catch (Exception ex) when (IsDecodeFailure(ex))
        {
            throw Classify(ex, format);
        }

        try
        {
            // Animated GIFs and multi-page TIFFs: only the first frame is segmented.
            while (image.Frames.Count > 1)
            {
                image.Frames.RemoveFrame(image.Frames.Count - 1);
            }

            image.Mutate(static x => x.AutoOrient());
            return new DecodedImage(image, format.Name);
        }
        catch
        {
            image.Dispose();
            throw;
        }
    }

    /// <summary>A read-only stream over the bytes, without copying them when they are backed by an array.</summary>
    public static MemoryStream AsStream(ReadOnlyMemory<byte> encoded)
    {
        if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray(encoded, out ArraySegment<byte> segment) && segment.Array is not null)
        {
            return new MemoryStream(segment.Array, segment.Offset, segment.Count, writable: false);
        }

        return new MemoryStream(encoded.ToArray(), writable: false);
    }

    internal static bool IsDecodeFailure(Exception ex) =>
        ex is UnknownImageFormatException or InvalidImageContentException or ImageFormatException
            or NotSupportedException or InvalidDataException or EndOfStreamException or IndexOutOfRangeException
            or ArgumentOutOfRangeException or ArgumentException or InvalidOperationException;

    private static ImageRejectedException Classify(Exception ex, IImageFormat? format) => ex switch
    {
        UnknownImageFormatException => new ImageRejectedException(
            ImageRejection.UnsupportedFormat,
            "The upload is not an image in a supported format (JPEG, PNG, BMP, GIF, WebP, TIFF, TGA).",
            ex),
        NotSupportedException => new ImageRejectedException(
            ImageRejection.UnsupportedFormat,
            $"The {format?.Name ?? "image"} file uses a feature that is not supported: {ex.Message}",
            ex),
        _ => new ImageRejectedException(
            ImageRejection.Corrupt,
            $"The {format?.Name ?? "image"} file is damaged or truncated: {ex.Message}",
            ex),
    };
}

/// <summary>A decoded upload: RGB24 pixels in display orientation, and the format it came in.</summary>
public sealed class DecodedImage(Image<Rgb24> image, string format) : IDisposable
{
    public Image<Rgb24> Image { get; } = image;

    public string Format { get; } = format;

    public int Width => Image.Width;

    public int Height => Image.Height;

    public void Dispose() => Image.Dispose();
}
