using SegServe.Inference.Evaluation;

namespace SegServe.Inference.UnitTests.Evaluation;

public sealed class ScoringSettingsTests
{
    [Fact]
    public void Defaults_AreTheIgnoreIndexOfTheDatasets_AndNoPalette()
    {
        var settings = ScoringSettings.Create(3, null, null, null, null);

        Assert.Equal(3, settings.NumClasses);
        Assert.Equal(255, settings.IgnoreIndex);
        Assert.Null(settings.ClassNames);
        Assert.Null(settings.Colours);
    }

    [Theory]
    [InlineData(null, null, null, "numClasses", "numClasses is required")]
    [InlineData(0, null, null, "numClasses", "within 1–4096")]
    [InlineData(4097, null, null, "numClasses", "within 1–4096")]
    [InlineData(2, -1, null, "ignoreIndex", "within 0–65535")]
    [InlineData(2, 65536, null, "ignoreIndex", "within 0–65535")]
    [InlineData(2, null, "#000000,red", "palette", "'red' is not a #rrggbb colour")]
    public void BadSettings_NameTheOption(int? numClasses, int? ignoreIndex, string? palette, string option, string message)
    {
        InvalidOptionException refused = Assert.Throws<InvalidOptionException>(() => ScoringSettings.Create(numClasses, ignoreIndex, null, palette, null));

        Assert.Equal(option, refused.Option);
        Assert.Contains(message, refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ClassNames_MustNameEveryClass()
    {
        InvalidOptionException refused = Assert.Throws<InvalidOptionException>(() => ScoringSettings.Create(2, null, ["a", "b", "c"], null, null));
        Assert.Equal("classNames", refused.Option);
        Assert.Equal("classNames has 3 names for 2 classes.", refused.Message);
    }

    [Fact]
    public void Palettes_AreVocOrColoursInLabelOrder()
    {
        IReadOnlyList<SixLabors.ImageSharp.PixelFormats.Rgb24> voc = LabelPalette.Parse(" VOC ")!;
        Assert.Equal(256, voc.Count);
        Assert.Equal(new SixLabors.ImageSharp.PixelFormats.Rgb24(128, 0, 0), voc[1]);

        IReadOnlyList<SixLabors.ImageSharp.PixelFormats.Rgb24> listed = LabelPalette.Parse("#000000, 102030 ,#ffffff")!;
        Assert.Equal([new(0, 0, 0), new(0x10, 0x20, 0x30), new(255, 255, 255)], listed);
        Assert.Null(LabelPalette.Parse("  "));
    }
}
