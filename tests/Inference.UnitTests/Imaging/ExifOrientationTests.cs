using SegServe.Inference.Imaging;
using SegServe.Tests.Shared;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.Metadata.Profiles.Exif;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.UnitTests.Imaging;

public sealed class ExifOrientationTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(6)]
    [InlineData(8)]
    public void Read_OrientationWrittenByImageSharp_JpegPngWebp(ushort orientation)
    {
        Assert.Equal(orientation, ExifOrientation.Read(Encode(new JpegEncoder(), orientation), JpegFormat.Instance));
        Assert.Equal(orientation, ExifOrientation.Read(Encode(new PngEncoder(), orientation), PngFormat.Instance));
        Assert.Equal(orientation, ExifOrientation.Read(Encode(new WebpEncoder(), orientation), WebpFormat.Instance));
    }

    [Fact]
    public void Read_SelfReferencingDirectory_ReadsTheFirstDirectoryOnly()
    {
        byte[] jpeg = CraftedImages.JpegWithSelfReferencingExif(Encode(new JpegEncoder(), orientation: null), orientation: 7);

        Assert.Equal(7, ExifOrientation.Read(jpeg, JpegFormat.Instance));
    }

    [Fact]
    public void Read_NoExif_IsOne()
    {
        Assert.Equal(1, ExifOrientation.Read(Encode(new JpegEncoder(), orientation: null), JpegFormat.Instance));
        Assert.Equal(1, ExifOrientation.Read(Encode(new PngEncoder(), orientation: null), PngFormat.Instance));
    }

    [Theory]
    [InlineData(new byte[] { })]
    [InlineData(new byte[] { (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0 })] // directory offset at the end
    [InlineData(new byte[] { (byte)'I', (byte)'I', 42, 0, 0xFF, 0xFF, 0xFF, 0x7F, 0, 0 })] // offset past the end
    [InlineData(new byte[] { (byte)'I', (byte)'I', 43, 0, 8, 0, 0, 0, 1, 0 })] // not 42
    [InlineData(new byte[] { (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, 0xFF, 0xFF, 0x12, 0x01, 3, 0 })] // 65535 entries, one cut short
    [InlineData(new byte[] { (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 9, 0, 0 })] // value 9
    [InlineData(new byte[] { (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 4, 0, 0, 0, 1, 0, 6, 0, 0 })] // LONG, not SHORT
    public void FromTiff_BrokenOrOutOfRange_IsOne(byte[] tiff)
    {
        Assert.Equal(1, ExifOrientation.FromTiff(tiff));
    }

    [Fact]
    public void FromTiff_BigEndianShort_IsRead()
    {
        byte[] tiff = [(byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 5, 0, 0];

        Assert.Equal(5, ExifOrientation.FromTiff(tiff));
    }

    private static byte[] Encode(SixLabors.ImageSharp.Formats.IImageEncoder encoder, ushort? orientation)
    {
        using var image = new Image<Rgb24>(4, 2);
        if (orientation is ushort value)
        {
            image.Metadata.ExifProfile = new ExifProfile();
            image.Metadata.ExifProfile.SetValue(ExifTag.Orientation, value);
        }

        using var stream = new MemoryStream();
        image.Save(stream, encoder);
        return stream.ToArray();
    }
}
