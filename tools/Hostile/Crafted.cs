using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace SegServe.Tools.Hostile;

/// <summary>Byte-level builders for files an encoder will not write: PNG chunks, GIF frames, zip entries.</summary>
internal static class Crafted
{
    private static readonly uint[] CrcTable = BuildCrcTable();

    public static uint Crc32(ReadOnlySpan<byte> data, uint crc = 0)
    {
        crc ^= 0xFFFFFFFFu;
        foreach (byte b in data)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }

    // ---------------------------------------------------------------- PNG

    public static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    public static void PngChunk(Stream output, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(word, (uint)data.Length);
        output.Write(word);
        byte[] typeBytes = Encoding.ASCII.GetBytes(type);
        output.Write(typeBytes);
        output.Write(data);
        uint crc = Crc32(data, Crc32(typeBytes));
        BinaryPrimitives.WriteUInt32BigEndian(word, crc);
        output.Write(word);
    }

    public static byte[] PngHeader(uint width, uint height, byte bitDepth = 8, byte colorType = 0)
    {
        var ihdr = new byte[13];
        BinaryPrimitives.WriteUInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteUInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = bitDepth;
        ihdr[9] = colorType;
        return ihdr;
    }

    /// <summary>A valid 8-bit greyscale PNG of one grey level, its rows deflated as they are made (never held whole).</summary>
    public static byte[] UniformGreyPng(uint width, uint height, byte value = 0)
    {
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var row = new byte[width + 1];
            row.AsSpan(1).Fill(value);
            for (uint y = 0; y < height; y++)
            {
                z.Write(row);
            }
        }

        return AssemblePng(PngHeader(width, height), idat.ToArray());
    }

    /// <summary>A PNG whose header declares a size and whose image data is a few deflated zero rows (a header-only bomb).</summary>
    public static byte[] DeclaredPng(uint width, uint height)
    {
        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            z.Write(new byte[Math.Min(width + 1, 4096)]);
        }

        return AssemblePng(PngHeader(width, height), idat.ToArray());
    }

    public static byte[] AssemblePng(byte[] ihdr, byte[] idat, params (string Type, byte[] Data)[] extra)
    {
        using var png = new MemoryStream();
        png.Write(PngSignature);
        PngChunk(png, "IHDR", ihdr);
        foreach ((string type, byte[] data) in extra)
        {
            PngChunk(png, type, data);
        }

        PngChunk(png, "IDAT", idat);
        PngChunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>A 1×1 PNG carrying a zTXt chunk whose text inflates to <paramref name="textBytes"/> bytes.</summary>
    public static byte[] ZtxtBombPng(long textBytes)
    {
        using var chunk = new MemoryStream();
        chunk.Write("Comment"u8);
        chunk.WriteByte(0);
        chunk.WriteByte(0); // compression method: deflate
        using (var z = new ZLibStream(chunk, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            var block = new byte[1 << 20];
            block.AsSpan().Fill((byte)'A');
            for (long left = textBytes; left > 0; left -= block.Length)
            {
                z.Write(block, 0, (int)Math.Min(block.Length, left));
            }
        }

        using var idat = new MemoryStream();
        using (var z = new ZLibStream(idat, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            z.Write([0, 0]);
        }

        return AssemblePng(PngHeader(1, 1), idat.ToArray(), ("zTXt", chunk.ToArray()));
    }

    // ---------------------------------------------------------------- GIF

    /// <summary>A GIF89a whose logical screen is <paramref name="screenWidth"/>×<paramref name="screenHeight"/> and which
    /// holds <paramref name="frames"/> frames of 1×1 pixel each, spread over the screen.</summary>
    public static byte[] GifFrameBomb(ushort screenWidth, ushort screenHeight, int frames)
    {
        using var gif = new MemoryStream();
        gif.Write("GIF89a"u8);
        Span<byte> u16 = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(u16, screenWidth);
        gif.Write(u16);
        BinaryPrimitives.WriteUInt16LittleEndian(u16, screenHeight);
        gif.Write(u16);
        gif.Write([0x80, 0x00, 0x00]);               // global colour table of 2 entries
        gif.Write([0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF]);
        gif.Write([0x21, 0xFF, 0x0B]);               // NETSCAPE2.0 loop forever
        gif.Write("NETSCAPE2.0"u8);
        gif.Write([0x03, 0x01, 0x00, 0x00, 0x00]);
        for (int i = 0; i < frames; i++)
        {
            gif.Write([0x21, 0xF9, 0x04, 0x00, 0x01, 0x00, 0x00, 0x00]); // graphic control: 10 ms, no disposal
            gif.WriteByte(0x2C);
            BinaryPrimitives.WriteUInt16LittleEndian(u16, (ushort)(i * 37 % screenWidth));
            gif.Write(u16);
            BinaryPrimitives.WriteUInt16LittleEndian(u16, (ushort)(i * 53 % screenHeight));
            gif.Write(u16);
            gif.Write([0x01, 0x00, 0x01, 0x00, 0x00]);   // 1×1, no local colour table
            gif.Write([0x02, 0x02, 0x44, 0x01, 0x00]);   // LZW min code 2: clear, pixel 0, end
        }

        gif.WriteByte(0x3B);
        return gif.ToArray();
    }

    // ---------------------------------------------------------------- ZIP

    public sealed record ZipEntrySpec(string Name, byte[] Content)
    {
        /// <summary>0 stored, 8 deflate, anything else is written as that method id with the content stored.</summary>
        public ushort Method { get; init; } = 8;

        public ushort Flags { get; init; }

        public uint? CrcOverride { get; init; }

        /// <summary>Replaces the compressed bytes (e.g. corrupt deflate); sizes follow the replacement.</summary>
        public byte[]? RawDataOverride { get; init; }

        public uint? UncompressedSizeOverride { get; init; }
    }

    public static byte[] Zip(IReadOnlyList<ZipEntrySpec> entries, ushort? declaredCount = null, bool truncateDirectory = false)
    {
        using var zip = new MemoryStream();
        using var writer = new BinaryWriter(zip, Encoding.UTF8, leaveOpen: true);
        var offsets = new List<(ZipEntrySpec Entry, uint Offset, uint Crc, byte[] Data)>(entries.Count);
        foreach (ZipEntrySpec e in entries)
        {
            byte[] data = e.RawDataOverride ?? (e.Method == 8 ? Deflate(e.Content) : e.Content);
            uint crc = e.CrcOverride ?? Crc32(e.Content);
            uint offset = (uint)zip.Position;
            byte[] name = Encoding.UTF8.GetBytes(e.Name);
            writer.Write(0x04034b50u);
            writer.Write((ushort)20);
            writer.Write(e.Flags);
            writer.Write(e.Method);
            writer.Write(0u); // time, date
            writer.Write(crc);
            writer.Write((uint)data.Length);
            writer.Write(e.UncompressedSizeOverride ?? (uint)e.Content.Length);
            writer.Write((ushort)name.Length);
            writer.Write((ushort)0);
            writer.Write(name);
            writer.Write(data);
            offsets.Add((e, offset, crc, data));
        }

        uint directoryStart = (uint)zip.Position;
        foreach ((ZipEntrySpec e, uint offset, uint crc, byte[] data) in offsets)
        {
            byte[] name = Encoding.UTF8.GetBytes(e.Name);
            writer.Write(0x02014b50u);
            writer.Write((ushort)20);
            writer.Write((ushort)20);
            writer.Write(e.Flags);
            writer.Write(e.Method);
            writer.Write(0u);
            writer.Write(crc);
            writer.Write((uint)data.Length);
            writer.Write(e.UncompressedSizeOverride ?? (uint)e.Content.Length);
            writer.Write((ushort)name.Length);
            writer.Write((ushort)0);
            writer.Write((ushort)0);
            writer.Write((ushort)0);
            writer.Write((ushort)0);
            writer.Write(0u);
            writer.Write(offset);
            writer.Write(name);
        }

        uint directorySize = (uint)zip.Position - directoryStart;
        ushort count = declaredCount ?? (ushort)Math.Min(entries.Count, ushort.MaxValue);
        writer.Write(0x06054b50u);
        writer.Write((ushort)0);
        writer.Write((ushort)0);
        writer.Write(count);
        writer.Write(count);
        writer.Write(directorySize);
        writer.Write(directoryStart);
        writer.Write((ushort)0);
        writer.Flush();
        byte[] bytes = zip.ToArray();
        return truncateDirectory ? bytes[..(int)(directoryStart + (directorySize / 2))] : bytes;
    }

    public static byte[] Deflate(byte[] content)
    {
        using var output = new MemoryStream();
        using (var d = new DeflateStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
        {
            d.Write(content);
        }

        return output.ToArray();
    }

    // ---------------------------------------------------------------- HTTP

    public static (byte[] Body, string ContentType) Multipart(string boundary, params (string Field, string FileName, string ContentType, byte[] Data)[] parts)
    {
        using var body = new MemoryStream();
        foreach ((string field, string fileName, string contentType, byte[] data) in parts)
        {
            body.Write(Encoding.UTF8.GetBytes(
                $"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{fileName}\"\r\nContent-Type: {contentType}\r\n\r\n"));
            body.Write(data);
            body.Write("\r\n"u8);
        }

        body.Write(Encoding.UTF8.GetBytes($"--{boundary}--\r\n"));
        return (body.ToArray(), "multipart/form-data; boundary=" + boundary);
    }

    /// <summary>A whole HTTP/1.1 request; <paramref name="contentLength"/> null writes the body's length, negative writes none.</summary>
    public static byte[] RawRequest(string requestLine, IEnumerable<string> headers, byte[] body, long? contentLength = null)
    {
        var head = new StringBuilder();
        head.Append(requestLine).Append("\r\nHost: 127.0.0.1\r\nConnection: close\r\n");
        foreach (string h in headers)
        {
            head.Append(h).Append("\r\n");
        }

        long length = contentLength ?? body.Length;
        if (length >= 0)
        {
            head.Append("Content-Length: ").Append(length).Append("\r\n");
        }

        head.Append("\r\n");
        byte[] headBytes = Encoding.UTF8.GetBytes(head.ToString());
        var message = new byte[headBytes.Length + body.Length];
        headBytes.CopyTo(message, 0);
        body.CopyTo(message, headBytes.Length);
        return message;
    }
}
