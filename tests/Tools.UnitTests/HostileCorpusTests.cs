using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using SegServe.Tools.Hostile;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;

namespace SegServe.Tools.UnitTests;

/// <summary>The corpus of seed 1, generated once for the tests of this class (it takes a few seconds).</summary>
public sealed class HostileCorpusFixture
{
    public IReadOnlyList<HostileRequest> Corpus { get; } = new CorpusGenerator(1).Generate();

    public HostileRequest Named(string name) => Corpus.Single(r => r.Name == name);
}

/// <summary>The hostile corpus generator (tools/Hostile): deterministic, large enough, every category, crafted items as intended.</summary>
public sealed class HostileCorpusTests(HostileCorpusFixture fixture) : IClassFixture<HostileCorpusFixture>
{
    [Fact]
    public void Generate_SameSeedTwice_GivesTheSameRequestsByteForByte()
    {
        IReadOnlyList<HostileRequest> again = new CorpusGenerator(1).Generate();

        Assert.Equal(Fingerprint(fixture.Corpus), Fingerprint(again));
    }

    [Fact]
    public void Generate_AnotherSeed_GivesOtherBitFlips()
    {
        IReadOnlyList<HostileRequest> other = new CorpusGenerator(2).Generate();

        Assert.NotEqual(Fingerprint(fixture.Corpus), Fingerprint(other));
    }

    [Fact]
    public void Generate_HasAtLeast2000RequestsWithUniqueIds()
    {
        Assert.True(fixture.Corpus.Count >= 2000, $"{fixture.Corpus.Count} requests");
        Assert.Equal(Enumerable.Range(1, fixture.Corpus.Count), fixture.Corpus.Select(r => r.Id));
    }

    [Fact]
    public void Generate_EveryCategoryIsPresent_AndNoOther()
    {
        var present = fixture.Corpus.Select(r => r.Category).ToHashSet();

        Assert.Equal(CorpusGenerator.Categories.Order(), present.Order());
    }

    [Fact]
    public void Generate_TruncatesEveryFormatAtEveryLength()
    {
        // the PNG base is truncated at 0, 1, …, length − 1: as many requests as the full file has bytes
        int pngTruncations = fixture.Corpus.Count(r => r.Category == "image-truncation" && r.Name.StartsWith("png[..", StringComparison.Ordinal));
        byte[] longest = FilePart(fixture.Named($"png[..{pngTruncations - 1}]"));

        Assert.Equal(pngTruncations - 1, longest.Length);
        Assert.Empty(FilePart(fixture.Named("png[..0]")));
    }

    [Fact]
    public void GifBomb_DeclaresA1000x1000ScreenAnd200FramesOf1x1()
    {
        byte[] gif = FilePart(fixture.Named("gif 1000x1000 screen, 200 1x1 frames"));

        Assert.Equal("GIF89a"u8.ToArray(), gif[..6]);
        Assert.Equal(1000, BinaryPrimitives.ReadUInt16LittleEndian(gif.AsSpan(6)));
        Assert.Equal(1000, BinaryPrimitives.ReadUInt16LittleEndian(gif.AsSpan(8)));
        List<(int Width, int Height)> frames = GifFrames(gif);
        Assert.Equal(200, frames.Count);
        Assert.All(frames, f => Assert.Equal((1, 1), f));
        IImageInfo info = Image.Identify(gif);
        Assert.Equal((1000, 1000), (info.Width, info.Height));
    }

    [Fact]
    public void TallPng_Is1By2000000AndDecodesAsDeclared()
    {
        byte[] png = FilePart(fixture.Named("png 1x2000000"));

        IImageInfo info = Image.Identify(png);

        Assert.Equal((1, 2_000_000), (info.Width, info.Height));
        Assert.True(png.Length < 64 * 1024, $"{png.Length} bytes");
    }

    [Fact]
    public void ZtxtBomb_Holds200MBOfTextInUnder199KB()
    {
        byte[] png = FilePart(fixture.Named("png zTXt 200 MB text"));
        (int offset, int length) = FindChunk(png, "zTXt");
        int textStart = png.AsSpan(offset, length).IndexOf((byte)0) + 2; // keyword, NUL, compression method

        Assert.True(length < 199_000, $"zTXt chunk of {length} bytes");
        using var inflate = new ZLibStream(new MemoryStream(png, offset + textStart, length - textStart), CompressionMode.Decompress);
        long inflated = 0;
        var buffer = new byte[1 << 20];
        for (int n; (n = inflate.Read(buffer)) > 0;)
        {
            inflated += n;
        }

        Assert.Equal(200_000_000, inflated);
    }

    [Theory]
    [InlineData("png 8000x5000 (at the limit)", 8000, 5000)]
    [InlineData("png 8000x5001 (over the limit)", 8000, 5001)]
    [InlineData("jpeg declares 8000x5000", 8000, 5000)]
    [InlineData("jpeg declares 8000x5001", 8000, 5001)]
    [InlineData("webp-lossy declares 8000x5000", 8000, 5000)]
    [InlineData("webp-lossless declares 8000x5001", 8000, 5001)]
    public void PixelLimitBombs_DeclareTheirSize(string name, int width, int height)
    {
        IImageInfo info = Image.Identify(FilePart(fixture.Named(name)));

        Assert.Equal((width, height), (info.Width, info.Height));
        Assert.Equal(width * (long)height <= CorpusGenerator.PixelLimit, fixture.Named(name).ValidPixels > 0);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(8)]
    public void ExifOrientations_AreWrittenIntoTheJpeg(ushort orientation)
    {
        byte[] jpeg = FilePart(fixture.Named($"jpeg orientation {orientation}"));

        IImageInfo info = Image.Identify(jpeg);

        ExifProfile? exif = info.Metadata.ExifProfile;
        Assert.NotNull(exif);
        IExifValue<ushort>? value = exif.GetValue(ExifTag.Orientation);
        Assert.NotNull(value);
        Assert.Equal(orientation, value.Value);
    }

    [Fact]
    public void PolygonBomb_IsInTheCocoGroundTruth()
    {
        HostileRequest request = fixture.Named("polygon bomb [[0,0,0,-3e8,1,0]]");

        Assert.Contains("\"segmentation\":[[0,0,0,-3e8,1,0]]", Encoding.UTF8.GetString(request.Body), StringComparison.Ordinal);
        Assert.Equal("/v1/evaluate/instances", request.Path);
    }

    [Fact]
    public void Zip5000Pairs_Holds10000EntriesThatPairUp()
    {
        using var zip = new ZipArchive(new MemoryStream(FilePart(fixture.Named("5000 pairs"))), ZipArchiveMode.Read);

        Assert.Equal(10_000, zip.Entries.Count);
        Assert.Equal(5000, zip.Entries.Count(e => e.FullName.StartsWith("groundTruth/", StringComparison.Ordinal)));
        Assert.Equal(zip.Entries.Where(e => e.FullName.StartsWith("groundTruth/", StringComparison.Ordinal)).Select(e => e.Name),
            zip.Entries.Where(e => e.FullName.StartsWith("prediction/", StringComparison.Ordinal)).Select(e => e.Name));
    }

    [Fact]
    public void Crc32_OfTheCheckString_IsTheStandardCheckValue() =>
        Assert.Equal(0xCBF43926u, Crafted.Crc32("123456789"u8));

    [Theory]
    [InlineData("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 413 Payload Too Large\r\nRetry-After: 3\r\n\r\n", 413, true)]
    [InlineData("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", 400, false)]
    [InlineData("", 0, false)]
    public void ParseStatus_TakesTheFirstFinalStatus(string response, int status, bool retryAfter) =>
        Assert.Equal((status, retryAfter), CorpusRunner.ParseStatus(response));

    private static string Fingerprint(IReadOnlyList<HostileRequest> corpus)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (HostileRequest r in corpus)
        {
            hash.AppendData(Encoding.UTF8.GetBytes($"{r.Id}|{r.Category}|{r.Name}|{r.Method}|{r.Path}|{r.ContentType}|{r.Transport}|"));
            hash.AppendData(r.Body);
        }

        return Convert.ToHexString(hash.GetHashAndReset());
    }

    /// <summary>The file of a one-file multipart body.</summary>
    private static byte[] FilePart(HostileRequest request)
    {
        Assert.NotNull(request.ContentType);
        string boundary = request.ContentType[(request.ContentType.IndexOf("boundary=", StringComparison.Ordinal) + 9)..];
        int start = request.Body.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        int end = request.Body.AsSpan().LastIndexOf(Encoding.ASCII.GetBytes("\r\n--" + boundary + "--"));
        return request.Body[start..end];
    }

    private static List<(int Width, int Height)> GifFrames(byte[] gif)
    {
        var frames = new List<(int, int)>();
        int at = 13 + ((gif[10] & 0x80) != 0 ? 3 << ((gif[10] & 7) + 1) : 0);
        while (gif[at] != 0x3B)
        {
            if (gif[at] == 0x21)
            {
                at += 2;
            }
            else
            {
                Assert.Equal(0x2C, gif[at]);
                frames.Add((BinaryPrimitives.ReadUInt16LittleEndian(gif.AsSpan(at + 5)), BinaryPrimitives.ReadUInt16LittleEndian(gif.AsSpan(at + 7))));
                at += 10 + ((gif[at + 9] & 0x80) != 0 ? 3 << ((gif[at + 9] & 7) + 1) : 0) + 1; // descriptor, local table, LZW code size
            }

            while (gif[at] != 0)
            {
                at += gif[at] + 1; // data sub-blocks
            }

            at++;
        }

        return frames;
    }

    private static (int Offset, int Length) FindChunk(byte[] png, string type)
    {
        for (int at = 8; at < png.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(at));
            if (Encoding.ASCII.GetString(png, at + 4, 4) == type)
            {
                return (at + 8, length);
            }

            at += 12 + length;
        }

        throw new InvalidOperationException("no " + type + " chunk");
    }
}
