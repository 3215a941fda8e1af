using SegServe.Inference.Geometry;
using SegServe.Inference.Models;

namespace SegServe.Inference.UnitTests.Geometry;

/// <summary>
/// 1-D taps against hand-computed PyTorch <c>F.interpolate(..., align_corners=False)</c> semantics
/// (formats-and-metrics.md §0): nearest = floor(d·in/out); bilinear s = (d+0.5)·in/out − 0.5 clamped at 0;
/// bicubic = Keys convolution with A = −0.75, taps clamped to the edge.
/// </summary>
public sealed class AxisSamplingTests
{
    // Keys kernel, A = -0.75:
    //   near(x) = 1.25x³ − 2.25x² + 1        (|x| ≤ 1)
    //   far(x)  = −0.75x³ + 3.75x² − 6x + 3  (1 < |x| < 2)
    // For t = 0.75: far(1.75) = −4.01953125 + 11.484375 − 10.5 + 3 = −0.03515625
    //               near(0.75) = 0.52734375 − 1.265625 + 1 = 0.26171875
    //               near(0.25) = 0.01953125 − 0.140625 + 1 = 0.87890625
    //               far(1.25) = −1.46484375 + 5.859375 − 7.5 + 3 = −0.10546875
    //   (sum = 1). For t = 0.25 the same four weights appear in reverse order.
    private const float Far175 = -0.03515625f;
    private const float Near075 = 0.26171875f;
    private const float Near025 = 0.87890625f;
    private const float Far125 = -0.10546875f;

    [Fact]
    public void Create_Nearest2To4_ReplicatesEachSourceIndexTwice()
    {
        // floor(d · 2/4) for d = 0..3 = floor(0, 0.5, 1, 1.5) = 0, 0, 1, 1.
        using AxisSampling sampling = AxisSampling.Create(Interpolation.Nearest, 2, 4);

        Assert.Equal(1, sampling.Taps);
        Assert.Equal([0, 0, 1, 1], sampling.Indices.ToArray());
        Assert.Equal([1f, 1f, 1f, 1f], sampling.Weights.ToArray());
    }

    [Fact]
    public void Create_Nearest3To2_UsesFloorNotCentre()
    {
        // floor(d · 3/2) = floor(0, 1.5) = 0, 1 (nearest-exact would give floor(0.75, 2.25) = 0, 2).
        using AxisSampling sampling = AxisSampling.Create(Interpolation.Nearest, 3, 2);

        Assert.Equal([0, 1], sampling.Indices.ToArray());
    }

    [Fact]
    public void Create_Bilinear2To4_HalfPixelWeights()
    {
        // s = (d + 0.5) · 0.5 − 0.5 = −0.25, 0.25, 0.75, 1.25
        // d=0: −0.25 → clamped to 0 → i0 = 0, i1 = 1, t = 0    → weights (1, 0)
        // d=1:  0.25 → i0 = 0, i1 = 1, t = 0.25                → (0.75, 0.25)
        // d=2:  0.75 → i0 = 0, i1 = 1, t = 0.75                → (0.25, 0.75)
        // d=3:  1.25 → i0 = 1, i1 = min(2, 1) = 1, t = 0.25    → (0.75, 0.25), both on index 1
        using AxisSampling sampling = AxisSampling.Create(Interpolation.Bilinear, 2, 4);

        Assert.Equal(2, sampling.Taps);
        Assert.Equal([0, 1, 0, 1, 0, 1, 1, 1], sampling.Indices.ToArray());
        Assert.Equal([1f, 0f, 0.75f, 0.25f, 0.25f, 0.75f, 0.75f, 0.25f], sampling.Weights.ToArray());
        Assert.Equal(0, sampling.MinIndex);
        Assert.Equal(1, sampling.MaxIndex);
    }

    [Fact]
    public void Create_Bilinear4To2_DownscalesWithoutAntialiasing()
    {
        // s = (d + 0.5) · 2 − 0.5 = 0.5, 2.5 → (i0, i1, t) = (0, 1, 0.5), (2, 3, 0.5): only two taps, no wider kernel.
        using AxisSampling sampling = AxisSampling.Create(Interpolation.Bilinear, 4, 2);

        Assert.Equal([0, 1, 2, 3], sampling.Indices.ToArray());
        Assert.Equal([0.5f, 0.5f, 0.5f, 0.5f], sampling.Weights.ToArray());
    }

    [Fact]
    public void Create_Bicubic2To4_KeysWeightsWithClampedTaps()
    {
        // s = −0.25, 0.25, 0.75, 1.25 (no clamp at 0 for cubic, as PyTorch); i = floor(s), t = s − i.
        // d=0: i = −1, t = 0.75 → taps −2..1 → clamped 0,0,0,1; weights far(1.75), near(0.75), near(0.25), far(1.25)
        // d=1: i = 0,  t = 0.25 → taps −1..2 → 0,0,1,1;          weights far(1.25), near(0.25), near(0.75), far(1.75)
        // d=2: i = 0,  t = 0.75 → taps −1..2 → 0,0,1,1;          weights as d=0
        // d=3: i = 1,  t = 0.25 → taps 0..3  → 0,1,1,1;          weights as d=1
        using AxisSampling sampling = AxisSampling.Create(Interpolation.Bicubic, 2, 4);

        Assert.Equal(4, sampling.Taps);
        Assert.Equal([0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1], sampling.Indices.ToArray());
        float[] expected =
        [
            Far175, Near075, Near025, Far125,
            Far125, Near025, Near075, Far175,
            Far175, Near075, Near025, Far125,
            Far125, Near025, Near075, Far175,
        ];
        float[] actual = sampling.Weights.ToArray();
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], 6);
        }
    }

    [Fact]
    public void Create_Bicubic2To4_AppliedToRampOvershootsLikePyTorch()
    {
        // x = [0, 1]: out[0] = far(1.25)·1 = −0.10546875; out[1] = near(0.75) + far(1.75) = 0.2265625;
        // out[2] = near(0.25) + far(1.25) = 0.7734375; out[3] = 1 − far(1.25) = 1.10546875
        // (torch.nn.functional.interpolate([[[[0., 1.]]]], size=(1, 4), mode="bicubic") overshoots the same way).
        using AxisSampling sampling = AxisSampling.Create(Interpolation.Bicubic, 2, 4);
        float[] source = [0f, 1f];

        float[] output = Apply(sampling, source);

        Assert.Equal(-0.10546875f, output[0], 6);
        Assert.Equal(0.2265625f, output[1], 6);
        Assert.Equal(0.7734375f, output[2], 6);
        Assert.Equal(1.10546875f, output[3], 6);
    }

    [Theory]
    [InlineData(Interpolation.Nearest)]
    [InlineData(Interpolation.Bilinear)]
    [InlineData(Interpolation.Bicubic)]
    public void Create_SameSize_IsACopyForEveryMethod(Interpolation method)
    {
        using AxisSampling sampling = AxisSampling.Create(method, 5, 5);
        float[] source = [3f, -1f, 7f, 0.5f, 2f];

        Assert.Equal(source, Apply(sampling, source));
        for (int d = 0; d < 5; d++)
        {
            Assert.Equal(d, sampling.Indices[d * sampling.Taps]);
            Assert.Equal(1f, sampling.Weights[d * sampling.Taps]);
        }
    }

    [Theory]
    [InlineData(Interpolation.Nearest, 8, 2, 4, 8)]
    [InlineData(Interpolation.Bilinear, 8, 2, 4, 8)]
    [InlineData(Interpolation.Bicubic, 8, 2, 4, 8)]
    [InlineData(Interpolation.Nearest, 8, 2, 4, 3)]
    [InlineData(Interpolation.Bilinear, 8, 2, 4, 3)]
    [InlineData(Interpolation.Bicubic, 8, 2, 4, 3)]
    [InlineData(Interpolation.Bilinear, 16, 1, 14, 40)]
    [InlineData(Interpolation.Bicubic, 16, 1, 14, 40)]
    [InlineData(Interpolation.Bicubic, 10, 3, 2, 9)]
    public void Create_Window_NeverReadsOutsideTheWindow(Interpolation method, int sourceLength, int start, int length, int output)
    {
        using AxisSampling sampling = AxisSampling.Create(method, sourceLength, start, length, output);

        Assert.InRange(sampling.MinIndex, start, start + length - 1);
        Assert.InRange(sampling.MaxIndex, start, start + length - 1);
        foreach (int index in sampling.Indices)
        {
            Assert.InRange(index, start, start + length - 1);
        }
    }

    [Fact]
    public void Create_BilinearWindow_EqualsCropThenResize()
    {
        // Window [2, 4) of [9, 9, 10, 20, 9, 9] onto 4: the same as resizing [10, 20] to 4 →
        // 10, 0.75·10 + 0.25·20 = 12.5, 0.25·10 + 0.75·20 = 17.5, 20.
        using AxisSampling sampling = AxisSampling.Create(Interpolation.Bilinear, 6, 2, 2, 4);

        Assert.Equal([10f, 12.5f, 17.5f, 20f], Apply(sampling, [9f, 9f, 10f, 20f, 9f, 9f]));
    }

    [Fact]
    public void Create_NearestWindowOfAQuarterSizeOutput_MapsLetterboxRows()
    {
        // A stride-4 head: input rows 4..11 hold the content (letterbox), output has 16/4 = 4 rows,
        // so the window is [1, 3) in output rows; 8 original rows → floor(1 + d · 2/8) = 1,1,1,1,2,2,2,2.
        using AxisSampling sampling = AxisSampling.Create(Interpolation.Nearest, 4, 1, 2, 8);

        Assert.Equal([1, 1, 1, 1, 2, 2, 2, 2], sampling.Indices.ToArray());
    }

    [Fact]
    public void Create_NonPositiveLengths_Throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AxisSampling.Create(Interpolation.Bilinear, 0, 4));
        Assert.Throws<ArgumentOutOfRangeException>(() => AxisSampling.Create(Interpolation.Bilinear, 4, 0));
    }

    internal static float[] Apply(AxisSampling sampling, float[] source)
    {
        float[] output = new float[sampling.Length];
        for (int d = 0; d < sampling.Length; d++)
        {
            float v = 0f;
            for (int k = 0; k < sampling.Taps; k++)
            {
                v += sampling.Weights[(d * sampling.Taps) + k] * source[sampling.Indices[(d * sampling.Taps) + k]];
            }

            output[d] = v;
        }

        return output;
    }
}
