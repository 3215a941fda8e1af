using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SegServe.Inference.Decoding;
using SegServe.Inference.Encoding;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.UnitTests.Encoding;

/// <summary>The PNG writer against an independent decoder (ImageSharp, which checks chunk CRCs) on generated maps.</summary>
public sealed class GreyPngWriterProperties
{
    [Property(MaxTest = 100)]
    public Property ClassMap_AnySizeAndClassCount_DecodesToTheSameIds() =>
        Prop.ForAll(
            (from width in Gen.Choose(1, 70)
             from height in Gen.Choose(1, 40)
             from classes in Gen.Elements(2, 21, 256, 257, 5000)
             from seed in Gen.Choose(0, int.MaxValue)
             select (width, height, classes, seed)).ToArbitrary(),
            c =>
            {
                using var map = new ClassMap(c.width, c.height, c.classes, withConfidence: false);
                var random = new Random(c.seed);
                Span<ushort> ids = map.Classes.Span;
                for (int i = 0; i < ids.Length; i++)
                {
                    // Runs, as in real label maps, with random breaks.
                    ids[i] = i > 0 && random.Next(4) != 0 ? ids[i - 1] : (ushort)random.Next(c.classes);
                }

                byte[] png = MapEncoder.EncodeClassMap(map);

                var decoder = new PngDecoder();
                using Image image = Image.Load(png, decoder);
                Assert.Equal((c.width, c.height), (image.Width, image.Height));
                if (c.classes > 256)
                {
                    using Image<L16> grey = image.CloneAs<L16>();
                    for (int i = 0; i < ids.Length; i++)
                    {
                        Assert.Equal(ids[i], grey[i % c.width, i / c.width].PackedValue);
                    }
                }
                else
                {
                    Assert.Equal(8, image.PixelType.BitsPerPixel);
                    using Image<L8> grey = image.CloneAs<L8>();
                    for (int i = 0; i < ids.Length; i++)
                    {
                        Assert.Equal(ids[i], grey[i % c.width, i / c.width].PackedValue);
                    }
                }
            });

    [Fact]
    public void Png_StructureIsStandard()
    {
        using var map = new ClassMap(4, 3, 2, withConfidence: false);
        map.Classes.Span.Fill(1);

        byte[] png = MapEncoder.EncodeClassMap(map);

        // Signature, then IHDR of length 13: width 4, height 3, depth 8, colour type 0 (greyscale).
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, png[..8]);
        Assert.Equal(new byte[] { 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R', 0, 0, 0, 4, 0, 0, 0, 3, 8, 0, 0, 0, 0 }, png[8..29]);
        Assert.Equal("IEND"u8.ToArray(), png[^8..^4]);
        // The IEND CRC is a constant of the format.
        Assert.Equal(new byte[] { 0xAE, 0x42, 0x60, 0x82 }, png[^4..]);
    }
}
