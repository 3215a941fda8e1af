using SegServe.Inference.Imaging;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.UnitTests.Imaging;

public sealed class ImageDecoderTests
{
    private static readonly ImageDecoder s_decoder = new(new ImageLimits());

    // GIF and TIFF are opt-in: their decoders are still covered, by a decoder that accepts every format.
    private static readonly ImageDecoder s_everyFormat = new(new ImageLimits { Formats = ["JPEG", "PNG", "WebP", "GIF", "TIFF", "BMP", "TGA", "PBM"] });

    public static TheoryData<string> Photos => ["astronaut.png", "camera.png", "chelsea.png", "coffee.png", "rocket.jpg"];

    [Theory]
    [MemberData(nameof(Photos))]
    public async Task Decode_Photo_MatchesTheHeaderSize(string name)
    {
        byte[] bytes = File.ReadAllBytes(SharedData.Require(Path.Combine("photos", name)));
        IImageInfo info = Image.Identify(bytes);

        using DecodedImage image = await s_decoder.DecodeAsync(bytes, TestContext.Current.CancellationToken);

        Assert.Equal(info.Width, image.Width);
        Assert.Equal(info.Height, image.Height);
    }

    [Fact]
    public async Task Decode_Chelsea_Is451By300Png()
    {
        using DecodedImage image = await s_decoder.DecodeAsync(Read("photos/chelsea.png"), TestContext.Current.CancellationToken);

        Assert.Equal((451, 300), (image.Width, image.Height));
        Assert.Equal("PNG", image.Format);
    }

    [Fact]
    public async Task Decode_TruncatedJpeg_IsRejectedAsCorrupt()
    {
        ImageRejectedException ex = await RejectedAsync(s_decoder, Read("odd/truncated.jpg"));

        Assert.Equal(ImageRejection.Corrupt, ex.Reason);
    }

    [Fact]
    public async Task Decode_AnimatedGif_KeepsOnlyTheFirstFrame()
    {
        byte[] bytes = Read("odd/no_time_for_that_tiny.gif");
        using Image<Rgb24> all = Image.Load<Rgb24>(bytes);
        Assert.True(all.Frames.Count > 1, "the sample GIF is animated");

        using DecodedImage image = await s_everyFormat.DecodeAsync(bytes, TestContext.Current.CancellationToken);

        Assert.Equal(1, image.Image.Frames.Count);
        Assert.Equal("GIF", image.Format);
        AssertSamePixels(all.Frames.CloneFrame(0), image.Image);
    }

    [Fact]
    public async Task Decode_Grey16Tiff_BecomesRgb24OfTheSameSizeScaledFromTheFull16BitRange()
    {
        // The sample is 200×200, 16 bits per sample, but its values are only 0..255 (an 8-bit chessboard stored as
        // uint16). ImageSharp maps 16 → 8 bits over the full range (v · 255 / 65535, rounded), so the decoded image is
        // almost black (0 and 1); PIL's I;16 → L would clip instead and keep 0..255. Pinned here so a change is seen.
        byte[] bytes = Read("odd/chessboard_GRAY_U16.tif");
        IImageInfo info = Image.Identify(bytes);
        Assert.Equal(16, info.PixelType.BitsPerPixel);
        using Image<L16> raw = Image.Load<L16>(bytes);

        using DecodedImage image = await s_everyFormat.DecodeAsync(bytes, TestContext.Current.CancellationToken);

        Assert.Equal((200, 200), (image.Width, image.Height));
        for (int y = 0; y < raw.Height; y++)
        {
            for (int x = 0; x < raw.Width; x++)
            {
                byte expected = (byte)Math.Round(raw[x, y].PackedValue * 255.0 / 65535.0);
                Rgb24 p = image.Image[x, y];
                Assert.Equal(new Rgb24(expected, expected, expected), p);
            }
        }
    }

    [Theory]
    [InlineData("odd/palette_color.png")]
    [InlineData("odd/green_palette.png")]
    public async Task Decode_PalettePng_Decodes(string path)
    {
        byte[] bytes = Read(path);
        using Image<Rgb24> reference = Image.Load<Rgb24>(bytes);

        using DecodedImage image = await s_decoder.DecodeAsync(bytes, TestContext.Current.CancellationToken);

        AssertSamePixels(reference, image.Image);
    }

    [Fact]
    public async Task Decode_MultipageTiff_KeepsTheFirstPage()
    {
        byte[] bytes = Read("odd/multipage_rgb.tif");
        using Image<Rgb24> all = Image.Load<Rgb24>(bytes);
        Assert.True(all.Frames.Count > 1, "the sample TIFF has several pages");

        using DecodedImage image = await s_everyFormat.DecodeAsync(bytes, TestContext.Current.CancellationToken);

        Assert.Equal(1, image.Image.Frames.Count);
        AssertSamePixels(all.Frames.CloneFrame(0), image.Image);
    }

    [Fact]
    public async Task Decode_MorePixelsThanTheLimit_RejectedAsTooManyPixels()
    {
        var decoder = new ImageDecoder(new ImageLimits { MaxPixels = 100 });

        ImageRejectedException ex = await RejectedAsync(decoder, Read("photos/astronaut.png"));

        Assert.Equal(ImageRejection.TooManyPixels, ex.Reason);
        Assert.Contains("262144", ex.Message, StringComparison.Ordinal); // 512 × 512
    }

    [Fact]
    public async Task Decode_HeaderOnlyOfAHugeImage_RejectedBeforeDecoding()
    {
        // A PNG whose header says 100000 × 100000 but holds no pixel data: the limit is checked from the header,
        // so the reason is TooManyPixels, not Corrupt.
        using var small = new Image<Rgb24>(1, 1);
        using var stream = new MemoryStream();
        small.SaveAsPng(stream);
        byte[] png = stream.ToArray();
        byte[] header = png[..33]; // signature (8) + IHDR chunk (4 + 4 + 13 + 4)
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(16), 100_000);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(20), 100_000);
        uint crc = Crc32(header.AsSpan(12, 17));
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(header.AsSpan(29), crc);

        ImageRejectedException ex = await RejectedAsync(s_decoder, header);

        Assert.Equal(ImageRejection.TooManyPixels, ex.Reason);
    }

    [Fact]
    public async Task Decode_MoreBytesThanTheLimit_RejectedAsTooManyBytes()
    {
        byte[] bytes = Read("photos/chelsea.png");
        var decoder = new ImageDecoder(new ImageLimits { MaxBytes = bytes.Length - 1 });

        ImageRejectedException ex = await RejectedAsync(decoder, bytes);

        Assert.Equal(ImageRejection.TooManyBytes, ex.Reason);
    }

    [Fact]
    public async Task Decode_Empty_RejectedAsEmpty()
    {
        ImageRejectedException ex = await RejectedAsync(s_decoder, ReadOnlyMemory<byte>.Empty);

        Assert.Equal(ImageRejection.Empty, ex.Reason);
    }

    [Fact]
    public async Task Decode_RandomBytes_RejectedAsUnsupportedFormat()
    {
        byte[] bytes = new byte[4096];
        new Random(1234).NextBytes(bytes);

        ImageRejectedException ex = await RejectedAsync(s_decoder, bytes);

        Assert.Equal(ImageRejection.UnsupportedFormat, ex.Reason);
    }

    [Fact]
    public async Task Decode_ExifOrientation6_RotatesToDisplayOrientation()
    {
        // A 4×2 JPEG tagged Orientation = 6 (rotate 90° clockwise to display) is 2×4 once oriented;
        // its left half is red and its right half blue, so after a clockwise turn red is on top.
        using var source = new Image<Rgb24>(4, 2);
        source.ProcessPixelRows(accessor =>
        {
            for (int y = 0; y < accessor.Height; y++)
            {
                Span<Rgb24> row = accessor.GetRowSpan(y);
                for (int x = 0; x < row.Length; x++)
                {
                    row[x] = x < 2 ? new Rgb24(255, 0, 0) : new Rgb24(0, 0, 255);
                }
            }
        });
        source.Metadata.ExifProfile = new ExifProfile();
        source.Metadata.ExifProfile.SetValue(ExifTag.Orientation, (ushort)6);
        using var stream = new MemoryStream();
        source.Save(stream, new JpegEncoder { Quality = 100 });

        using DecodedImage image = await s_decoder.DecodeAsync(stream.ToArray(), TestContext.Current.CancellationToken);

        Assert.Equal((2, 4), (image.Width, image.Height));
        Rgb24 top = image.Image[0, 0];
        Rgb24 bottom = image.Image[1, 3];
        Assert.True(top.R > 200 && top.B < 60, $"top is {top}");
        Assert.True(bottom.B > 200 && bottom.R < 60, $"bottom is {bottom}");
    }

    private static async Task<ImageRejectedException> RejectedAsync(ImageDecoder decoder, ReadOnlyMemory<byte> bytes) =>
        await Assert.ThrowsAsync<ImageRejectedException>(async () => (await decoder.DecodeAsync(bytes, TestContext.Current.CancellationToken)).Dispose());

    private static byte[] Read(string relative) => File.ReadAllBytes(SharedData.Require(relative));

    private static void AssertSamePixels(Image<Rgb24> expected, Image<Rgb24> actual)
    {
        using (expected)
        {
            Assert.Equal((expected.Width, expected.Height), (actual.Width, actual.Height));
            for (int y = 0; y < expected.Height; y++)
            {
                for (int x = 0; x < expected.Width; x++)
                {
                    Assert.Equal(expected[x, y], actual[x, y]);
                }
            }
        }
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }
}
