using SegServe.Inference.Models;
using SegServe.Inference.Preprocessing;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;
using ResizeMode = SegServe.Inference.Models.ResizeMode;

namespace SegServe.Inference.UnitTests.Preprocessing;

public sealed class ImagePreprocessorTests
{
    [Fact]
    public void Plan_Stretch_UsesTheFixedSizeWithoutPadding()
    {
        var preprocessor = new ImagePreprocessor(new InputSpec { Resize = ResizeMode.Stretch, Width = 640, Height = 480 });

        Assert.Equal(new InputGeometry(451, 300, 640, 480, 0, 0, 640, 480), preprocessor.Plan(451, 300));
    }

    [Fact]
    public void Plan_LetterboxLandscape_UltralyticsRounding()
    {
        // r = min(640/451, 640/300) = 1.419069; round(451 r) = 640, round(300 r) = round(425.72) = 426;
        // dh = (640 − 426) / 2 = 107 → top = round(107 − 0.1) = 107; left = round(0 − 0.1) = 0.
        var preprocessor = new ImagePreprocessor(Letterbox640());

        Assert.Equal(new InputGeometry(451, 300, 640, 640, 0, 107, 640, 426), preprocessor.Plan(451, 300));
    }

    [Fact]
    public void Plan_LetterboxPortrait_PadsLeftAndRight()
    {
        // 300×451 → content 426×640, left = round(107 − 0.1) = 107.
        var preprocessor = new ImagePreprocessor(Letterbox640());

        Assert.Equal(new InputGeometry(300, 451, 640, 640, 107, 0, 426, 640), preprocessor.Plan(300, 451));
    }

    [Fact]
    public void Plan_LetterboxOddPadding_PutsTheSmallerHalfOnTop()
    {
        // 3×2: r = 213.33; round(2 r) = round(426.67) = 427; dh = 213 / 2 = 106.5 → top = round(106.4) = 106
        // (bottom = round(106.6) = 107), as Ultralytics LetterBox.
        var preprocessor = new ImagePreprocessor(Letterbox640());

        Assert.Equal(new InputGeometry(3, 2, 640, 640, 0, 106, 640, 427), preprocessor.Plan(3, 2));
    }

    [Fact]
    public void Plan_ShorterSideTruncate_TorchvisionResize520()
    {
        // torchvision Resize([520]) on w=451, h=300: short = 300, long = int(520 · 451 / 300) = int(781.73) = 781.
        var preprocessor = new ImagePreprocessor(new InputSpec { Resize = ResizeMode.ShorterSide, ShorterSide = 520 });

        Assert.Equal(new InputGeometry(451, 300, 781, 520, 0, 0, 781, 520), preprocessor.Plan(451, 300));
        Assert.Equal(new InputGeometry(300, 451, 520, 781, 0, 0, 520, 781), preprocessor.Plan(300, 451));
    }

    [Theory]
    [InlineData(357, 102, 1820)] // 520 · 357 / 102 = 1820 exactly; 357 · (520 / 102) = 1819.9999999999998 in doubles
    [InlineData(663, 102, 3380)]
    [InlineData(451, 300, 781)]
    public void Plan_ShorterSideTruncate_LongerSideIsIntOfExactQuotient(int width, int height, int expectedWidth)
    {
        // torchvision: int(requested_new_short * long / short) — one division of exact integers, then truncation.
        var preprocessor = new ImagePreprocessor(new InputSpec { Resize = ResizeMode.ShorterSide, ShorterSide = 520 });

        InputGeometry geometry = preprocessor.Plan(width, height);

        Assert.Equal(expectedWidth, geometry.ContentWidth);
        Assert.Equal(520, geometry.ContentHeight);
    }

    [Fact]
    public void Plan_ShorterSideTruncateWithMaxSize_TorchvisionMaxSizeFormula()
    {
        // torchvision Resize([520], max_size=700) on 451×300: new_long = 781 > 700 →
        // new_short = int(700 · 520 / 781) = int(466.07) = 466, new_long = 700.
        var preprocessor = new ImagePreprocessor(new InputSpec { Resize = ResizeMode.ShorterSide, ShorterSide = 520, MaxLongerSide = 700 });

        Assert.Equal(new InputGeometry(451, 300, 700, 466, 0, 0, 700, 466), preprocessor.Plan(451, 300));
    }

    [Fact]
    public void Plan_ShorterSideRoundWithMax_MmsegRescale()
    {
        // mmcv rescale_size((451, 300), (2048, 512)): s = min(2048/451, 512/300) = 1.70667;
        // (int(451 s + 0.5), int(300 s + 0.5)) = (int(770.21), int(512.5)) = (770, 512).
        var preprocessor = new ImagePreprocessor(Mmseg());

        Assert.Equal(new InputGeometry(451, 300, 770, 512, 0, 0, 770, 512), preprocessor.Plan(451, 300));
    }

    [Fact]
    public void Plan_ShorterSideRoundWhenTheMaxBinds_ScalesByTheLongerSide()
    {
        // 2000×300: s = min(2048/2000, 512/300) = 1.024 → (int(2048.5), int(307.7)) = (2048, 307).
        var preprocessor = new ImagePreprocessor(Mmseg());

        Assert.Equal(new InputGeometry(2000, 300, 2048, 307, 0, 0, 2048, 307), preprocessor.Plan(2000, 300));
    }

    [Fact]
    public void Plan_ShorterSideWithPadToMultiple_PadsBottomRight()
    {
        // 770×512 → input 800×512 (multiple of 32), content at (0, 0).
        var preprocessor = new ImagePreprocessor(Mmseg() with { PadToMultipleOf = 32 });

        Assert.Equal(new InputGeometry(451, 300, 800, 512, 0, 0, 770, 512), preprocessor.Plan(451, 300));
    }

    [Fact]
    public void Plan_NoneWithPadToMultipleOf8_KeepsTheNativeSize()
    {
        // 451 → 456, 300 → 304.
        var preprocessor = new ImagePreprocessor(new InputSpec { Resize = ResizeMode.None, PadToMultipleOf = 8 });

        InputGeometry geometry = preprocessor.Plan(451, 300);

        Assert.Equal(new InputGeometry(451, 300, 456, 304, 0, 0, 451, 300), geometry);
        Assert.False(geometry.Resizes);
        Assert.True(geometry.HasPadding);
    }

    // The 2×1 image below: (10, 20, 30) and (200, 100, 50); scale 1, mean (100, 50, 10), std (2, 4, 5) in network order.
    [Fact]
    public void Write_RgbNchw_ExactNormalisedValues()
    {
        // R: (10 − 100)/2 = −45, (200 − 100)/2 = 50;  G: (20 − 50)/4 = −7.5, (100 − 50)/4 = 12.5;
        // B: (30 − 10)/5 = 4, (50 − 10)/5 = 8.
        float[] tensor = WriteTwoPixels(ChannelOrder.Rgb, TensorLayout.Nchw);

        AssertClose([-45f, 50f, -7.5f, 12.5f, 4f, 8f], tensor);
    }

    [Fact]
    public void Write_RgbNhwc_InterleavesChannels()
    {
        float[] tensor = WriteTwoPixels(ChannelOrder.Rgb, TensorLayout.Nhwc);

        AssertClose([-45f, -7.5f, 4f, 50f, 12.5f, 8f], tensor);
    }

    [Fact]
    public void Write_BgrNchw_SwapsChannelsAndUsesNetworkOrderStatistics()
    {
        // Channel 0 = B with mean 100, std 2: (30 − 100)/2 = −35, (50 − 100)/2 = −25;
        // channel 1 = G (mean 50, std 4): −7.5, 12.5; channel 2 = R (mean 10, std 5): 0, 38.
        float[] tensor = WriteTwoPixels(ChannelOrder.Bgr, TensorLayout.Nchw);

        AssertClose([-35f, -25f, -7.5f, 12.5f, 0f, 38f], tensor);
    }

    [Fact]
    public void Write_BgrNhwc_SwapsChannelsInEachPixel()
    {
        float[] tensor = WriteTwoPixels(ChannelOrder.Bgr, TensorLayout.Nhwc);

        AssertClose([-35f, -7.5f, 0f, -25f, 12.5f, 38f], tensor);
    }

    [Fact]
    public void Write_ImageNetScale_MatchesTorchvisionNormalize()
    {
        // (x/255 − mean)/std for (10, 20, 30): R (0.0392157 − 0.485)/0.229 = −1.946656;
        // G (0.0784314 − 0.456)/0.224 = −1.685574; B (0.1176471 − 0.406)/0.225 = −1.281569 (float32 tolerance 1e-5).
        var spec = new InputSpec
        {
            Resize = ResizeMode.None,
            Mean = [0.485, 0.456, 0.406],
            Std = [0.229, 0.224, 0.225],
        };
        var preprocessor = new ImagePreprocessor(spec);
        using var image = new Image<Rgb24>(1, 1);
        image[0, 0] = new Rgb24(10, 20, 30);
        InputGeometry geometry = preprocessor.Plan(1, 1);
        float[] tensor = new float[ImagePreprocessor.TensorLength(geometry)];

        preprocessor.Write(image, geometry, tensor);

        Assert.Equal(-1.946656f, tensor[0], 5);
        Assert.Equal(-1.685574f, tensor[1], 5);
        Assert.Equal(-1.281569f, tensor[2], 5);
    }

    [Theory]
    [InlineData(TensorLayout.Nchw)]
    [InlineData(TensorLayout.Nhwc)]
    public void Write_PadToMultiple_FillsPaddingWithTheNormalisedPadValue(TensorLayout layout)
    {
        // 2×1 image, padToMultipleOf 4 → input 4×4, content at (0, 0). Pad 114: R (114 − 100)/2 = 7,
        // G (114 − 50)/4 = 16, B (114 − 10)/5 = 20.8.
        InputSpec spec = TwoPixelSpec(ChannelOrder.Rgb, layout) with { PadToMultipleOf = 4, PadValue = 114 };
        var preprocessor = new ImagePreprocessor(spec);
        using Image<Rgb24> image = TwoPixels();
        InputGeometry geometry = preprocessor.Plan(2, 1);
        Assert.Equal(new InputGeometry(2, 1, 4, 4, 0, 0, 2, 1), geometry);
        float[] tensor = new float[ImagePreprocessor.TensorLength(geometry)];
        Array.Fill(tensor, float.NaN);

        preprocessor.Write(image, geometry, tensor);

        float[][] content = [[-45f, -7.5f, 4f], [50f, 12.5f, 8f]];
        float[] pad = [7f, 16f, 20.8f];
        for (int y = 0; y < 4; y++)
        {
            for (int x = 0; x < 4; x++)
            {
                for (int c = 0; c < 3; c++)
                {
                    int index = layout == TensorLayout.Nchw ? (c * 16) + (y * 4) + x : (((y * 4) + x) * 3) + c;
                    float expected = y == 0 && x < 2 ? content[x][c] : pad[c];
                    Assert.Equal(expected, tensor[index], 5);
                }
            }
        }
    }

    [Fact]
    public void Write_LetterboxSolidImage_ContentRowsBetweenPadRows()
    {
        // A solid 8×4 image into a 16×16 letterbox: r = 2, content 16×8, top = round(4 − 0.1) = 4.
        // Rows 4..11 hold the colour (a resize of a solid image stays solid), the others the pad value.
        var spec = new InputSpec
        {
            Resize = ResizeMode.Letterbox,
            Width = 16,
            Height = 16,
            Scale = 1,
            PadValue = 114,
        };
        var preprocessor = new ImagePreprocessor(spec);
        using var image = new Image<Rgb24>(8, 4, new Rgb24(10, 20, 30));
        InputGeometry geometry = preprocessor.Plan(8, 4);
        Assert.Equal(new InputGeometry(8, 4, 16, 16, 0, 4, 16, 8), geometry);
        float[] tensor = new float[ImagePreprocessor.TensorLength(geometry)];

        preprocessor.Write(image, geometry, tensor);

        float[] colour = [10f, 20f, 30f];
        for (int c = 0; c < 3; c++)
        {
            for (int y = 0; y < 16; y++)
            {
                for (int x = 0; x < 16; x++)
                {
                    float expected = y is >= 4 and < 12 ? colour[c] : 114f;
                    Assert.Equal(expected, tensor[(c * 256) + (y * 16) + x], 3);
                }
            }
        }
    }

    [Fact]
    public void Write_WrongDestinationLength_Throws()
    {
        var preprocessor = new ImagePreprocessor(TwoPixelSpec(ChannelOrder.Rgb, TensorLayout.Nchw));
        using Image<Rgb24> image = TwoPixels();

        Assert.Throws<ArgumentException>(() => preprocessor.Write(image, preprocessor.Plan(2, 1), new float[5]));
    }

    private static InputSpec Letterbox640() => new() { Resize = ResizeMode.Letterbox, Width = 640, Height = 640, PadValue = 114 };

    private static InputSpec Mmseg() => new()
    {
        Resize = ResizeMode.ShorterSide,
        ShorterSide = 512,
        MaxLongerSide = 2048,
        Rounding = SizeRounding.Round,
    };

    private static InputSpec TwoPixelSpec(ChannelOrder color, TensorLayout layout) => new()
    {
        Resize = ResizeMode.None,
        Color = color,
        Layout = layout,
        Scale = 1,
        Mean = [100, 50, 10],
        Std = [2, 4, 5],
    };

    private static Image<Rgb24> TwoPixels()
    {
        var image = new Image<Rgb24>(2, 1);
        image[0, 0] = new Rgb24(10, 20, 30);
        image[1, 0] = new Rgb24(200, 100, 50);
        return image;
    }

    private static float[] WriteTwoPixels(ChannelOrder color, TensorLayout layout)
    {
        var preprocessor = new ImagePreprocessor(TwoPixelSpec(color, layout));
        using Image<Rgb24> image = TwoPixels();
        InputGeometry geometry = preprocessor.Plan(2, 1);
        Assert.Equal(new InputGeometry(2, 1, 2, 1, 0, 0, 2, 1), geometry);
        float[] tensor = new float[ImagePreprocessor.TensorLength(geometry)];
        preprocessor.Write(image, geometry, tensor);
        return tensor;
    }

    private static void AssertClose(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 5);
        }
    }
}
