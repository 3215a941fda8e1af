using System.Buffers.Binary;
using SixLabors.ImageSharp.Formats;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Tiff;
using SixLabors.ImageSharp.Formats.Webp;

namespace SegServe.Inference.Imaging;

/// <summary>
/// Reads the EXIF orientation (1–8) of JPEG, PNG, WebP and TIFF files from their bytes, without ImageSharp's EXIF
/// reader: that one walks every directory an upload points to (a directory pointing at itself broke auto-orient with
/// an exception). This reads one tag of the first directory, every offset checked against the bytes: linear in the
/// file's size, no pointer followed. Anything broken or absent is orientation 1 (leave the image as it is).
/// </summary>
public static class ExifOrientation
{
    private const ushort OrientationTag = 0x0112;
    private const int MaxEntries = 1024;

    /// <summary>The orientation of an image of <paramref name="format"/>; 1 when it has none or it cannot be read.</summary>
    public static int Read(ReadOnlySpan<byte> encoded, IImageFormat format)
    {
        ReadOnlySpan<byte> tiff =
            format == JpegFormat.Instance ? FindInJpeg(encoded)
            : format == PngFormat.Instance ? FindInPng(encoded)
            : format == WebpFormat.Instance ? FindInWebp(encoded)
            : format == TiffFormat.Instance ? encoded
            : default;
        return FromTiff(tiff);
    }

    /// <summary>Whether the orientation turns the image by 90° (width and height swap).</summary>
    public static bool Transposes(int orientation) => orientation is >= 5 and <= 8;

    /// <summary>The orientation tag of the first directory of a TIFF structure (EXIF's own layout); 1 when absent or broken.</summary>
    internal static int FromTiff(ReadOnlySpan<byte> tiff)
    {
        if (tiff.Length < 8)
        {
            return 1;
        }

        bool little;
        if (tiff[0] == (byte)'I' && tiff[1] == (byte)'I')
        {
            little = true;
        }
        else if (tiff[0] == (byte)'M' && tiff[1] == (byte)'M')
        {
            little = false;
        }
        else
        {
            return 1;
        }

        if (UInt16(tiff[2..], little) != 42)
        {
            return 1;
        }

        uint first = UInt32(tiff[4..], little);
        if (first < 8 || first > (uint)tiff.Length - 2)
        {
            return 1;
        }

        int at = (int)first;
        int entries = Math.Min((int)UInt16(tiff[at..], little), MaxEntries);
        at += 2;
        for (int i = 0; i < entries && at + 12 <= tiff.Length; i++, at += 12)
        {
            if (UInt16(tiff[at..], little) != OrientationTag)
            {
                continue;
            }

            // SHORT (3), one value, held in the first two bytes of the value field.
            if (UInt16(tiff[(at + 2)..], little) != 3 || UInt32(tiff[(at + 4)..], little) < 1)
            {
                return 1;
            }

            int value = UInt16(tiff[(at + 8)..], little);
            return value is >= 1 and <= 8 ? value : 1;
        }

        return 1;
    }

    // JPEG: the APP1 segment that starts "Exif\0\0", among the segments before the first scan.
    private static ReadOnlySpan<byte> FindInJpeg(ReadOnlySpan<byte> jpeg)
    {
        int at = 2; // after SOI
        while (at + 4 <= jpeg.Length)
        {
            if (jpeg[at] != 0xFF)
            {
                return default;
            }

            byte marker = jpeg[at + 1];
            if (marker == 0xFF)
            {
                at++; // fill byte
                continue;
            }

            if (marker is 0xDA or 0xD9)
            {
                return default; // start of scan or end of image: no EXIF before the pixels
            }

            int length = BinaryPrimitives.ReadUInt16BigEndian(jpeg[(at + 2)..]);
            if (length < 2 || at + 2 + length > jpeg.Length)
            {
                return default;
            }

            ReadOnlySpan<byte> body = jpeg.Slice(at + 4, length - 2);
            if (marker == 0xE1 && body.StartsWith("Exif\0\0"u8))
            {
                return body[6..];
            }

            at += 2 + length;
        }

        return default;
    }

    // PNG: the eXIf chunk, before the image data.
    private static ReadOnlySpan<byte> FindInPng(ReadOnlySpan<byte> png)
    {
        int at = 8; // after the signature
        while (at + 12 <= png.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[at..]);
            ReadOnlySpan<byte> type = png.Slice(at + 4, 4);
            if (length > (uint)(png.Length - at - 12) || type.SequenceEqual("IEND"u8))
            {
                return default;
            }

            if (type.SequenceEqual("eXIf"u8))
            {
                return png.Slice(at + 8, (int)length);
            }

            at += 12 + (int)length;
        }

        return default;
    }

    // WebP: the EXIF chunk of the RIFF container (some writers keep JPEG's "Exif\0\0" prefix in it).
    private static ReadOnlySpan<byte> FindInWebp(ReadOnlySpan<byte> webp)
    {
        int at = 12; // after "RIFF", size, "WEBP"
        while (at + 8 <= webp.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32LittleEndian(webp[(at + 4)..]);
            if (length > (uint)(webp.Length - at - 8))
            {
                return default;
            }

            if (webp.Slice(at, 4).SequenceEqual("EXIF"u8))
            {
                ReadOnlySpan<byte> exif = webp.Slice(at + 8, (int)length);
                return exif.StartsWith("Exif\0\0"u8) ? exif[6..] : exif;
            }

            at += 8 + (int)length + (int)(length & 1);
        }

        return default;
    }

    private static ushort UInt16(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(bytes) : BinaryPrimitives.ReadUInt16BigEndian(bytes);

    private static uint UInt32(ReadOnlySpan<byte> bytes, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(bytes) : BinaryPrimitives.ReadUInt32BigEndian(bytes);
}
