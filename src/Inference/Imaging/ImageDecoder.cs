using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SegServe.Inference.Imaging;

/// <summary>
/// Turns uploaded bytes into one RGB24 image in display orientation, spending on a stranger's bytes no more than the
/// limits allow: the format is sniffed from the bytes and must be accepted (<see cref="ImageFormats"/>); size, pixels and
/// aspect ratio are checked from the header; the decoded bytes are reserved in <see cref="DecodeAdmission"/> before the
/// full decode; the decode runs under a time budget; orientation is read by <see cref="ExifOrientation"/>.
/// </summary>
public sealed class ImageDecoder
{
    private readonly ImageLimits _limits;
    private readonly TimeProvider _time;
    private readonly TimeSpan _budget;

    /// <summary>A decoder with its own budget of decoded bytes, on the system clock.</summary>
    public ImageDecoder(ImageLimits limits)
        : this(limits, TimeProvider.System)
    {
    }

    /// <summary>A decoder that reserves in <paramref name="admission"/> (its own, from the limits, when null).</summary>
    public ImageDecoder(ImageLimits limits, TimeProvider timeProvider, DecodeAdmission? admission = null)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(timeProvider);
        _limits = limits;
        _time = timeProvider;
        _budget = TimeSpan.FromMilliseconds(limits.MaxDecodeMilliseconds);
        Formats = new ImageFormats(limits.Formats, limits.MaxPixels, limits.PoolMegabytes);
        Admission = admission ?? new DecodeAdmission(limits.MaxDecodedBytesInFlight, TimeSpan.FromMilliseconds(limits.AdmissionWaitMilliseconds), timeProvider);
    }

    public ImageLimits Limits => _limits;

    /// <summary>The accepted formats and their decoders.</summary>
    public ImageFormats Formats { get; }

    /// <summary>The budget of decoded bytes in flight.</summary>
    public DecodeAdmission Admission { get; }

    /// <summary>
    /// Decodes an image of an accepted format (JPEG, PNG, WebP by default; GIF first frame, TIFF first page, BMP, TGA, PBM
    /// when configured). The result holds its reservation of the decode budget until it is disposed.
    /// </summary>
    /// <exception cref="ImageRejectedException">The upload breaks a limit, is not an accepted image, or is damaged.</exception>
    /// <exception cref="DecodeOverloadedException">The decode budget stayed full while the request waited.</exception>
    public async Task<DecodedImage> DecodeAsync(ReadOnlyMemory<byte> encoded, CancellationToken cancellationToken)
    {
        if (encoded.Length == 0)
        {
            throw new ImageRejectedException(ImageRejection.Empty, "The image is empty (0 bytes).");
        }

        if (encoded.Length > _limits.MaxBytes)
        {
            throw new ImageRejectedException(
                ImageRejection.TooManyBytes,
                $"The image is {encoded.Length} bytes; the limit is {_limits.MaxBytes} bytes (Inference:Images:MaxBytes).");
        }

        IImageFormat format = Formats.Sniff(encoded.Span);
        IImageDecoder decoder = Formats.DecoderOf(format);
        IImageInfo info = Run(format, encoded, (stream, token) => ((IImageInfoDetector)decoder).Identify(Formats.Configuration, stream, token), cancellationToken)
            ?? throw new ImageRejectedException(ImageRejection.Corrupt, $"The {format.Name} file has no readable header.");
        CheckHeader(info, format);

        int orientation = ExifOrientation.Read(encoded.Span, format);
        long bytes = (long)info.Width * info.Height * ImageFormats.BytesPerPixel(format, ExifOrientation.Transposes(orientation));
        if (bytes > Admission.CapacityBytes)
        {
            throw new ImageRejectedException(
                ImageRejection.TooComplex,
                $"The {info.Width}×{info.Height} {format.Name} image needs up to {bytes} bytes to decode; that is more than all of "
                + $"Inference:Images:MaxDecodedBytesInFlight ({Admission.CapacityBytes} bytes).");
        }

        DecodeReservation reservation = await Admission.ReserveAsync(bytes, cancellationToken).ConfigureAwait(false);
        try
        {
            // Decoding straight into Rgb24 converts grey, palette, 16-bit and alpha sources once, inside the decoder.
            Image<Rgb24> image = Run(format, encoded, (stream, token) => decoder.Decode<Rgb24>(Formats.Configuration, stream, token), cancellationToken);
            try
            {
                if (orientation > 1)
                {
                    // The decoders ignore metadata; the orientation read from the bytes is applied as AutoOrient would.
                    image.Metadata.ExifProfile = new ExifProfile();
                    image.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)orientation);
                    image.Mutate(static x => x.AutoOrient());
                }

                return new DecodedImage(image, format.Name, reservation);
            }
            catch
            {
                image.Dispose();
                throw;
            }
        }
        catch
        {
            reservation.Dispose();
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

    /// <summary>
    /// Whether an exception thrown while decoding is the file's fault. The decoders parse a stranger's bytes, and their
    /// bugs surface as any exception type (a flipped JPEG frame marker: NullReferenceException; a PPM of maxval 0:
    /// DivideByZeroException), so every one is, except cancellation, the process running out of memory, and this
    /// engine's own exceptions (deliberate answers, e.g. a label map's palette too long).
    /// </summary>
    internal static bool IsDecodeFailure(Exception ex) =>
        ex is not (OperationCanceledException or OutOfMemoryException) && ex.GetType().Assembly != typeof(ImageDecoder).Assembly;

    private void CheckHeader(IImageInfo info, IImageFormat format)
    {
        if (info.Width < 1 || info.Height < 1)
        {
            throw new ImageRejectedException(ImageRejection.Corrupt, $"The {format.Name} image declares a size of {info.Width}×{info.Height}.");
        }

        long pixels = (long)info.Width * info.Height;
        if (pixels > _limits.MaxPixels)
        {
            throw new ImageRejectedException(
                ImageRejection.TooManyPixels,
                $"The image is {info.Width}×{info.Height} = {pixels} pixels; the limit is {_limits.MaxPixels} pixels (Inference:Images:MaxPixels).");
        }

        // A thin image is cheap in pixels and dear in everything per row or column (a 1×20,000,000 PNG: seconds).
        int longSide = Math.Max(info.Width, info.Height);
        int shortSide = Math.Min(info.Width, info.Height);
        if (longSide > (long)shortSide * _limits.MaxAspectRatio)
        {
            throw new ImageRejectedException(
                ImageRejection.TooComplex,
                $"The image is {info.Width}×{info.Height}, {longSide / shortSide} times as long as it is wide; the limit is "
                + $"{_limits.MaxAspectRatio} (Inference:Images:MaxAspectRatio).");
        }
    }

    // One decoder call on the bytes, under the time budget, with every failure named for the client.
    private T Run<T>(IImageFormat format, ReadOnlyMemory<byte> encoded, Func<Stream, CancellationToken, T> decode, CancellationToken cancellationToken)
    {
        using var deadline = new DecodeDeadline(_budget, _time, cancellationToken);
        using Stream stream = deadline.Guard(AsStream(encoded));
        try
        {
            return decode(stream, deadline.Token);
        }
        catch (OperationCanceledException ex) when (deadline.Expired)
        {
            throw new ImageRejectedException(
                ImageRejection.TooComplex,
                $"Decoding the {format.Name} image took longer than its budget of {_limits.MaxDecodeMilliseconds} ms (Inference:Images:MaxDecodeMilliseconds).",
                ex);
        }
        catch (Exception ex) when (IsDecodeFailure(ex))
        {
            throw ex is NotSupportedException
                ? new ImageRejectedException(ImageRejection.UnsupportedFormat, $"The {format.Name} file uses a feature that is not supported: {ex.Message}", ex)
                : new ImageRejectedException(ImageRejection.Corrupt, $"The {format.Name} file is damaged or truncated: {ex.Message}", ex);
        }
    }
}

/// <summary>A decoded upload: RGB24 pixels in display orientation, and the format it came in.</summary>
public sealed class DecodedImage(Image<Rgb24> image, string format, IDisposable? reservation = null) : IDisposable
{
    public Image<Rgb24> Image { get; } = image;

    public string Format { get; } = format;

    public int Width => Image.Width;

    public int Height => Image.Height;

    /// <summary>Frees the pixels and gives their reservation of the decode budget back.</summary>
    public void Dispose()
    {
        Image.Dispose();
        reservation?.Dispose();
    }
}
