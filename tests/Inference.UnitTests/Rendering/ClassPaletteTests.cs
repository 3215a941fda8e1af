using SegServe.Inference.Models;
using SegServe.Inference.Rendering;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Inference.UnitTests.Rendering;

public sealed class ClassPaletteTests
{
    [Theory]
    [InlineData(0, 0, 0, 0)]
    [InlineData(1, 128, 0, 0)]
    [InlineData(2, 0, 128, 0)]
    [InlineData(3, 128, 128, 0)]
    [InlineData(4, 0, 0, 128)]
    [InlineData(15, 192, 128, 128)] // VOC person: 15 = 0b001_111 → bits 7 and 6 for R, 7 for G and B
    [InlineData(255, 224, 224, 192)]
    public void VocColor_MatchesThePascalVocColourMap(int id, byte r, byte g, byte b)
    {
        Assert.Equal(new Rgb24(r, g, b), ClassPalette.VocColor(id));
    }

    [Fact]
    public void Constructor_ManifestColour_OverridesTheVocColour()
    {
        var palette = new ClassPalette(
        [
            new ClassSpec { Id = 0, Name = "background" },
            new ClassSpec { Id = 1, Name = "person", Color = "#ff4d4d" },
            new ClassSpec { Id = 2, Name = "cat", Color = "00ff80" },
            new ClassSpec { Id = 3, Name = "dog", Color = "not a colour" },
        ]);

        Assert.Equal(4, palette.Count);
        Assert.Equal(new Rgb24(0, 0, 0), palette[0]);
        Assert.Equal(new Rgb24(255, 77, 77), palette[1]);
        Assert.Equal(new Rgb24(0, 255, 128), palette[2]);
        Assert.Equal(new Rgb24(128, 128, 0), palette[3]);
    }

    [Theory]
    [InlineData("background", false)]
    [InlineData("Background", false)]
    [InlineData("__background__", false)]
    [InlineData("bg", false)]
    [InlineData("person", true)]
    public void Tinted_BackgroundIsLeftUntinted(string name, bool tinted)
    {
        var palette = new ClassPalette([new ClassSpec { Id = 0, Name = name }]);

        Assert.Equal(tinted, palette.Tinted[0]);
    }

    [Theory]
    [InlineData("#ff4d4d", true, 255, 77, 77)]
    [InlineData("FF4D4D", true, 255, 77, 77)]
    [InlineData("#fff", false, 0, 0, 0)]
    [InlineData("", false, 0, 0, 0)]
    [InlineData(null, false, 0, 0, 0)]
    [InlineData("#-12345", false, 0, 0, 0)]
    public void ColorParser_TryParse(string? text, bool ok, byte r, byte g, byte b)
    {
        Assert.Equal(ok, ColorParser.TryParse(text, out Rgb24 color));
        Assert.Equal(new Rgb24(r, g, b), color);
    }

    [Fact]
    public void ColorParser_Format_IsLowerHex()
    {
        Assert.Equal("#ff4d00", ColorParser.Format(new Rgb24(255, 77, 0)));
    }
}
