using SegServe.Inference.Encoding;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.UnitTests.Encoding;

public sealed class PictureEncoderTests
{
    [Fact]
    public void Encode_JpegLongerThanItsFormatHolds_IsTheClientsFormatChoice()
    {
        using var image = new Image<Rgb24>(1, 65_535);

        InvalidOptionException ex = Assert.Throws<InvalidOptionException>(() => PictureEncoder.Encode(image, PictureFormat.Jpeg));

        Assert.Equal("format", ex.Option);
        Assert.Contains("65534", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Encode_AtTheJpegLimitOrAsPng_Encodes()
    {
        using var atLimit = new Image<Rgb24>(65_534, 1);
        using var longer = new Image<Rgb24>(1, 65_536);

        Assert.Equal(65_534, Image.Identify(PictureEncoder.Encode(atLimit, PictureFormat.Jpeg)).Width);
        Assert.Equal(65_536, Image.Identify(PictureEncoder.Encode(longer, PictureFormat.Png)).Height);
    }
}
