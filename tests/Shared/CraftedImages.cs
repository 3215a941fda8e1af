using System.Buffers.Binary;
using System.IO.Compression;
using System.IO.Hashing;
using System.Text;

namespace SegServe.Tests.Shared;

/// <summary>
/// Hostile uploads, built byte by byte: each is a defect a client found (a few KB that cost hundreds of megabytes or
/// seconds to decode, or that crashed a decoder). Generated here rather than committed, so the test says what the
/// bytes are. Linked into each test project that needs it, like <see cref="Repository"/>.
/// </summary>
internal static class CraftedImages
{
    private static readonly byte[] s_pngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// A GIF of a large logical screen holding many 1×1 frames (≈4.6 KB for the defaults): a decoder that decodes
    /// every frame allocates each at the screen's size.
    /// </summary>
    public static byte[] GifFrameBomb(int screenWidth = 1000, int screenHeight = 1000, int frames = 200)
    {
        var gif = new MemoryStream();
        gif.Write("GIF89a"u8);
        WriteUInt16LittleEndian(gif, screenWidth);
        WriteUInt16LittleEndian(gif, screenHeight);
        gif.Write([0x80, 0x00, 0x00]); // global colour table of 2 entries, background 0, no aspect
        gif.Write([0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF]);
        for (int i = 0; i < frames; i++)
        {
            gif.Write([0x21, 0xF9, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00]); // graphic control: 10 ms delay
            gif.Write([0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00]); // 1×1 at (0, 0)

            // LZW, minimum code size 2, codes of 3 bits LSB first: clear (4), index 0, end (5) = 0b101_000_100.
            gif.Write([0x02, 0x02, 0x44, 0x01, 0x00]);
        }

        gif.WriteByte(0x3B);
        return gif.ToArray();
    }

    /// <summary>
    /// A 1-bit grey PNG of <paramref name="width"/>×<paramref name="height"/> pixels, all black: a 1×2,000,000 image
    /// compresses to about 4 KB.
    /// </summary>
    public static byte[] BlackPng(int width, int height)
    {
        int rowBytes = 1 + ((width + 7) / 8);
        var png = new MemoryStream();
        png.Write(s_pngSignature);
        WriteChunk(png, "IHDR", Header(width, height, bitDepth: 1, colourType: 0));
        var raw = new MemoryStream();
        using (var zlib = new ZLibStream(raw, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[rowBytes]; // filter 0, all pixels 0
            for (int y = 0; y < height; y++)
            {
                zlib.Write(row);
            }
        }

        WriteChunk(png, "IDAT", raw.ToArray());
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>
    /// A 1×1 PNG with a zTXt chunk that inflates to <paramref name="uncompressedBytes"/> zeros (200 MB: a 199 KB file).
    /// </summary>
    public static byte[] PngWithTextBomb(int uncompressedBytes = 200_000_000)
    {
        var png = new MemoryStream();
        png.Write(s_pngSignature);
        WriteChunk(png, "IHDR", Header(1, 1, bitDepth: 8, colourType: 0));
        var text = new MemoryStream();
        text.Write("Comment"u8);
        text.Write([0x00, 0x00]); // keyword terminator, compression method 0 (zlib)
        using (var zlib = new ZLibStream(text, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var zeros = new byte[1 << 20];
            for (int left = uncompressedBytes; left > 0; left -= zeros.Length)
            {
                zlib.Write(zeros, 0, Math.Min(left, zeros.Length));
            }
        }

        WriteChunk(png, "zTXt", text.ToArray());
        WriteChunk(png, "IDAT", ZLib([0x00, 0x80])); // filter 0, one grey pixel
        WriteChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>A binary PPM (P6) whose maximum sample value is <paramref name="maxValue"/> (0 is invalid).</summary>
    public static byte[] Ppm(int width, int height, int maxValue)
    {
        byte[] header = Encoding.ASCII.GetBytes($"P6\n{width} {height}\n{maxValue}\n");
        var ppm = new byte[header.Length + (width * height * 3)];
        header.CopyTo(ppm, 0);
        return ppm;
    }

    /// <summary>
    /// A JPEG with an APP1 EXIF block whose first directory says Orientation = <paramref name="orientation"/>, and
    /// whose EXIF sub-directory pointer and next-directory offset both point back at that same directory.
    /// </summary>
    public static byte[] JpegWithSelfReferencingExif(byte[] jpeg, ushort orientation = 6)
    {
        ArgumentNullException.ThrowIfNull(jpeg);
        var tiff = new MemoryStream();
        tiff.Write("MM\0*"u8);
        WriteUInt32BigEndian(tiff, 8); // IFD0 at 8
        WriteUInt16BigEndian(tiff, 2);
        WriteEntry(tiff, tag: 0x0112, type: 3, count: 1, value: (uint)orientation << 16); // SHORT, left-justified
        WriteEntry(tiff, tag: 0x8769, type: 4, count: 1, value: 8); // Exif IFD pointer → IFD0 itself
        WriteUInt32BigEndian(tiff, 8); // next IFD → IFD0 itself
        return InsertApp1Exif(jpeg, tiff.ToArray());
    }

    /// <summary>A JPEG with an APP1 EXIF block holding only Orientation = <paramref name="orientation"/>, little-endian.</summary>
    public static byte[] JpegWithOrientation(byte[] jpeg, ushort orientation)
    {
        ArgumentNullException.ThrowIfNull(jpeg);
        var tiff = new MemoryStream();
        tiff.Write("II*\0"u8);
        tiff.Write([0x08, 0x00, 0x00, 0x00]);
        tiff.Write([0x01, 0x00]); // one entry
        tiff.Write([0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, (byte)orientation, (byte)(orientation >> 8), 0x00, 0x00]);
        tiff.Write([0x00, 0x00, 0x00, 0x00]);
        return InsertApp1Exif(jpeg, tiff.ToArray());
    }

    /// <summary>
    /// The JPEG with the first byte of its frame header marker (SOF0–SOF2) flipped: the decoder meets a scan without
    /// a frame (ImageSharp 2.1 answered with a NullReferenceException).
    /// </summary>
    public static byte[] JpegWithFlippedFrameMarker(byte[] jpeg)
    {
        ArgumentNullException.ThrowIfNull(jpeg);
        byte[] copy = (byte[])jpeg.Clone();
        for (int at = 2; at + 4 <= copy.Length && copy[at] == 0xFF; at += 2 + BinaryPrimitives.ReadUInt16BigEndian(copy.AsSpan(at + 2)))
        {
            if (copy[at + 1] is >= 0xC0 and <= 0xC2)
            {
                copy[at] ^= 0xFF;
                return copy;
            }
        }

        throw new ArgumentException("The JPEG has no frame header before its first scan.", nameof(jpeg));
    }

    private static byte[] InsertApp1Exif(byte[] jpeg, byte[] tiff)
    {
        int length = 2 + 6 + tiff.Length;
        var result = new MemoryStream();
        result.Write(jpeg, 0, 2); // SOI
        result.Write([0xFF, 0xE1]);
        WriteUInt16BigEndian(result, length);
        result.Write("Exif\0\0"u8);
        result.Write(tiff);
        result.Write(jpeg, 2, jpeg.Length - 2);
        return result.ToArray();
    }

    private static void WriteEntry(Stream stream, ushort tag, ushort type, uint count, uint value)
    {
        WriteUInt16BigEndian(stream, tag);
        WriteUInt16BigEndian(stream, type);
        WriteUInt32BigEndian(stream, count);
        WriteUInt32BigEndian(stream, value);
    }

    private static byte[] Header(int width, int height, byte bitDepth, byte colourType)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colourType;
        return ihdr;
    }

    private static byte[] ZLib(byte[] data)
    {
        var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(data);
        }

        return compressed.ToArray();
    }

    private static void WriteChunk(Stream png, string type, byte[] data)
    {
        byte[] typeBytes = Encoding.ASCII.GetBytes(type);
        WriteUInt32BigEndian(png, (uint)data.Length);
        png.Write(typeBytes);
        png.Write(data);
        var crc = new Crc32();
        crc.Append(typeBytes);
        crc.Append(data);
        WriteUInt32BigEndian(png, crc.GetCurrentHashAsUInt32());
    }

    private static void WriteUInt16LittleEndian(Stream stream, int value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, (ushort)value);
        stream.Write(bytes);
    }

    private static void WriteUInt16BigEndian(Stream stream, int value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(bytes, (ushort)value);
        stream.Write(bytes);
    }

    private static void WriteUInt32BigEndian(Stream stream, uint value)
    {
        Span<byte> bytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(bytes, value);
        stream.Write(bytes);
    }
}
