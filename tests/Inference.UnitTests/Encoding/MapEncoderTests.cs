using SegServe.Inference.Decoding;
using SegServe.Inference.Encoding;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.UnitTests.Encoding;

public sealed class MapEncoderTests
{
    [Theory]
    [InlineData(1, 8)]
    [InlineData(21, 8)]
    [InlineData(256, 8)]
    [InlineData(257, 16)]
    [InlineData(65536, 16)]
    public void ClassMapBitDepth_ByClassCount(int classCount, int bits)
    {
        Assert.Equal(bits, MapEncoder.ClassMapBitDepth(classCount));
    }

    [Fact]
    public void EncodeClassMap_Upto256Classes_RoundTripsAs8BitGrey()
    {
        using var map = new ClassMap(3, 2, 256, withConfidence: false);
        ushort[] ids = [0, 1, 255, 7, 7, 200];
        ids.CopyTo(map.Classes.Span);

        byte[] png = MapEncoder.EncodeClassMap(map);

        Assert.Equal(8, Image.Identify(png).PixelType.BitsPerPixel);
        using Image<L8> decoded = Image.Load<L8>(png);
        Assert.Equal((3, 2), (decoded.Width, decoded.Height));
        for (int i = 0; i < ids.Length; i++)
        {
            Assert.Equal(ids[i], decoded[i % 3, i / 3].PackedValue);
        }
    }

    [Fact]
    public void EncodeClassMap_MoreThan256Classes_RoundTripsAs16BitGrey()
    {
        using var map = new ClassMap(2, 2, 1000, withConfidence: false);
        ushort[] ids = [0, 256, 999, 513];
        ids.CopyTo(map.Classes.Span);

        byte[] png = MapEncoder.EncodeClassMap(map);

        Assert.Equal(16, Image.Identify(png).PixelType.BitsPerPixel);
        using Image<L16> decoded = Image.Load<L16>(png);
        for (int i = 0; i < ids.Length; i++)
        {
            Assert.Equal(ids[i], decoded[i % 2, i / 2].PackedValue);
        }
    }

    [Fact]
    public void EncodeConfidence_RoundTripsAs8BitGrey()
    {
        using var map = new ClassMap(2, 2, 2, withConfidence: true);
        byte[] confidence = [0, 128, 200, 255];
        confidence.CopyTo(map.Confidence!.Span);

        byte[] png = MapEncoder.EncodeConfidence(map);

        using Image<L8> decoded = Image.Load<L8>(png);
        for (int i = 0; i < confidence.Length; i++)
        {
            Assert.Equal(confidence[i], decoded[i % 2, i / 2].PackedValue);
        }
    }

    [Fact]
    public void EncodeConfidence_WithoutConfidence_Throws()
    {
        using var map = new ClassMap(1, 1, 2, withConfidence: false);

        Assert.Throws<InvalidOperationException>(() => MapEncoder.EncodeConfidence(map));
    }

    [Fact]
    public void CountPixels_CountsEveryClassId()
    {
        using var map = new ClassMap(2, 2, 3, withConfidence: false);
        ushort[] ids = [2, 2, 0, 2];
        ids.CopyTo(map.Classes.Span);

        map.CountPixels();

        Assert.Equal([1L, 0L, 3L], map.PixelCounts);
    }
}
