using SegServe.Inference.Decoding;
using SegServe.Inference.Models;
using SegServe.Inference.Preprocessing;

namespace SegServe.Inference.UnitTests.Decoding;

public sealed class SemanticDecoderTests
{
    // 2×2 output, 2×2 input, 4×4 original: bilinear per axis (see AxisSamplingTests) gives t = 0, 0.25, 0.75, 1
    // between source index 0 and 1, so [a, b] → [a, 0.75a + 0.25b, 0.25a + 0.75b, b].
    private static readonly InputGeometry s_twoToFour = new(4, 4, 2, 2, 0, 0, 2, 2);

    private static SemanticDecodeOptions Options(Interpolation upsample = Interpolation.Bilinear, float threshold = 0.5f, bool confidence = true) =>
        new(upsample, threshold, confidence);

    [Fact]
    public void DecodeScores_SigmoidBilinear2To4_ThresholdsHandComputedValues()
    {
        // p = [[0.0, 0.8], [0.4, 1.0]].
        // Top row along x:    0.8·tx       → 0, 0.2, 0.6, 0.8
        // Bottom row along x: 0.4 + 0.6·tx → 0.4, 0.55, 0.85, 1.0
        // Rows at ty = 0, 0.25, 0.75, 1 (ty·bottom + (1 − ty)·top):
        //   y0: 0.0, 0.2,    0.6,    0.8
        //   y1: 0.1, 0.2875, 0.6625, 0.85
        //   y2: 0.3, 0.4625, 0.7875, 0.95
        //   y3: 0.4, 0.55,   0.85,   1.0
        // Threshold 0.5 (strictly greater) → class 1 where p > 0.5; confidence = p for class 1, 1 − p for class 0.
        float[] scores = [0.0f, 0.8f, 0.4f, 1.0f];
        float[,] p =
        {
            { 0.0f, 0.2f, 0.6f, 0.8f },
            { 0.1f, 0.2875f, 0.6625f, 0.85f },
            { 0.3f, 0.4625f, 0.7875f, 0.95f },
            { 0.4f, 0.55f, 0.85f, 1.0f },
        };

        using ClassMap map = SemanticDecoder.DecodeScores(scores, 1, 2, 2, s_twoToFour, OutputKind.Sigmoid, 2, Options());

        ushort[] expected =
        [
            0, 0, 1, 1,
            0, 0, 1, 1,
            0, 0, 1, 1,
            0, 1, 1, 1,
        ];
        Assert.Equal(expected, map.Classes.Span.ToArray());
        Assert.Equal([7L, 9L], map.PixelCounts);
        for (int y = 0; y < 4; y++)
        {
            for (int x = 0; x < 4; x++)
            {
                float confidence = expected[(y * 4) + x] == 1 ? p[y, x] : 1f - p[y, x];
                AssertByte(confidence * 255f, map.Confidence!.Span[(y * 4) + x]);
            }
        }
    }

    [Fact]
    public void DecodeScores_SigmoidThreshold_IsStrictAndConfigurable()
    {
        // Constant 0.3 map: with threshold 0.3 nothing is foreground (strictly greater), with 0.29 everything is.
        float[] scores = [0.3f, 0.3f, 0.3f, 0.3f];

        using (ClassMap strict = SemanticDecoder.DecodeScores(scores, 1, 2, 2, s_twoToFour, OutputKind.Sigmoid, 2, Options(threshold: 0.3f)))
        {
            Assert.Equal([16L, 0L], strict.PixelCounts);
        }

        using ClassMap lower = SemanticDecoder.DecodeScores(scores, 1, 2, 2, s_twoToFour, OutputKind.Sigmoid, 2, Options(threshold: 0.29f));
        Assert.Equal([0L, 16L], lower.PixelCounts);
    }

    [Fact]
    public void DecodeScores_TwoClassLogitsBilinear2To4_ArgmaxAndSoftmaxConfidence()
    {
        // Channel 0 ≡ 0, channel 1 = L = [[−4, 4], [0, 8]]; class 1 where L > 0 (a tie at 0 keeps class 0).
        // Top row along x: −4 + 8·tx → −4, −2, 2, 4;  bottom row: 8·tx → 0, 2, 6, 8.
        //   y0: −4, −2, 2, 4
        //   y1: −3, −1, 3, 5   (0.75·top + 0.25·bottom)
        //   y2: −1,  1, 5, 7   (0.25·top + 0.75·bottom)
        //   y3:  0,  2, 6, 8
        // Confidence = max softmax = 1 / (1 + e^−|L|), ×255, rounded:
        //   |L|=0 → 0.5 → 127.5 → 128;  1 → 0.7311 → 186;  2 → 0.8808 → 225;  3 → 0.9526 → 243;
        //   4 → 0.9820 → 250;  5 → 0.9933 → 253;  6 → 0.9975 → 254;  7 → 0.9991 → 255;  8 → 0.9997 → 255.
        float[] scores = [0f, 0f, 0f, 0f, -4f, 4f, 0f, 8f];

        using ClassMap map = SemanticDecoder.DecodeScores(scores, 2, 2, 2, s_twoToFour, OutputKind.Logits, 2, Options());

        Assert.Equal(
            new ushort[]
            {
                0, 0, 1, 1,
                0, 0, 1, 1,
                0, 1, 1, 1,
                0, 1, 1, 1,
            },
            map.Classes.Span.ToArray());
        Assert.Equal([6L, 10L], map.PixelCounts);
        byte[] expectedConfidence =
        [
            250, 225, 225, 250,
            243, 186, 243, 253,
            186, 186, 253, 255,
            128, 225, 254, 255,
        ];
        for (int i = 0; i < 16; i++)
        {
            AssertByte(expectedConfidence[i], map.Confidence!.Span[i]);
        }
    }

    [Fact]
    public void DecodeScores_ThreeClassLogits_ConfidenceIsMaxSoftmax()
    {
        // One pixel, logits (1, 2, 3): softmax max = e³ / (e¹ + e² + e³) = 20.0855 / 30.1929 = 0.66524 → 169.6 → 170.
        var geometry = new InputGeometry(1, 1, 1, 1, 0, 0, 1, 1);

        using ClassMap map = SemanticDecoder.DecodeScores([1f, 2f, 3f], 3, 1, 1, geometry, OutputKind.Logits, 3, Options());

        Assert.Equal(2, map.Classes.Span[0]);
        AssertByte(169.64f, map.Confidence!.Span[0]);
    }

    [Theory]
    [InlineData(OutputKind.Logits)]
    [InlineData(OutputKind.Probabilities)]
    public void DecodeScores_ArgmaxTies_KeepTheLowerClass(OutputKind kind)
    {
        // Pixel 0: (0.2, 0.2, 0.2) → 0; pixel 1: (0.1, 0.4, 0.4) → 1; pixel 2: (0.1, 0.2, 0.2) → 1;
        // pixel 3: (0.3, 0.3, 0.4) → 2.
        var geometry = new InputGeometry(4, 1, 4, 1, 0, 0, 4, 1);
        float[] scores =
        [
            0.2f, 0.1f, 0.1f, 0.3f,
            0.2f, 0.4f, 0.2f, 0.3f,
            0.2f, 0.4f, 0.2f, 0.4f,
        ];

        using ClassMap map = SemanticDecoder.DecodeScores(scores, 3, 1, 4, geometry, kind, 3, Options());

        Assert.Equal(new ushort[] { 0, 1, 1, 2 }, map.Classes.Span.ToArray());
    }

    [Fact]
    public void DecodeScores_Probabilities_ConfidenceIsMaxProbability()
    {
        // Pixel 0: (0.1, 0.7, 0.2) → class 1, 0.7·255 = 178.5 → 179 (±1); pixel 1: (0.5, 0.25, 0.25) → class 0, 127.5 → 128 (±1).
        var geometry = new InputGeometry(2, 1, 2, 1, 0, 0, 2, 1);
        float[] scores = [0.1f, 0.5f, 0.7f, 0.25f, 0.2f, 0.25f];

        using ClassMap map = SemanticDecoder.DecodeScores(scores, 3, 1, 2, geometry, OutputKind.Probabilities, 3, Options());

        Assert.Equal(new ushort[] { 1, 0 }, map.Classes.Span.ToArray());
        AssertByte(178.5f, map.Confidence!.Span[0]);
        AssertByte(127.5f, map.Confidence!.Span[1]);
    }

    [Fact]
    public void DecodeScores_WithoutConfidence_HasNoConfidence()
    {
        using ClassMap map = SemanticDecoder.DecodeScores([0f, 1f], 2, 1, 1, new InputGeometry(1, 1, 1, 1, 0, 0, 1, 1), OutputKind.Logits, 2, Options(confidence: false));

        Assert.Null(map.Confidence);
        Assert.Equal(1, map.Classes.Span[0]);
    }

    [Theory]
    [InlineData(Interpolation.Nearest)]
    [InlineData(Interpolation.Bilinear)]
    [InlineData(Interpolation.Bicubic)]
    public void DecodeScores_LetterboxPadding_DoesNotInfluenceTheResult(Interpolation upsample)
    {
        // Input 4×4 with a 2×2 image at (1, 1) and no resize; the padding ring holds NaN in both channels,
        // so any tap that reads padding (even with weight 0) would poison the argmax or the confidence.
        // Content logits, channel 1 minus channel 0: [[1, −1], [−2, 2]] → classes [[1, 0], [0, 1]].
        var geometry = new InputGeometry(2, 2, 4, 4, 1, 1, 2, 2);
        float[] scores = new float[2 * 16];
        Array.Fill(scores, float.NaN);
        SetContent(scores, 0, [0f, 0f, 0f, 0f]);
        SetContent(scores, 1, [1f, -1f, -2f, 2f]);

        using ClassMap map = SemanticDecoder.DecodeScores(scores, 2, 4, 4, geometry, OutputKind.Logits, 2, Options(upsample));

        Assert.Equal(new ushort[] { 1, 0, 0, 1 }, map.Classes.Span.ToArray());

        // softmax of (0, ±1) = 0.7311 → 186; of (0, ±2) = 0.8808 → 225.
        AssertByte(186.4f, map.Confidence!.Span[0]);
        AssertByte(186.4f, map.Confidence!.Span[1]);
        AssertByte(224.6f, map.Confidence!.Span[2]);
        AssertByte(224.6f, map.Confidence!.Span[3]);

        static void SetContent(float[] scores, int channel, float[] values)
        {
            int plane = channel * 16;
            scores[plane + 5] = values[0];
            scores[plane + 6] = values[1];
            scores[plane + 9] = values[2];
            scores[plane + 10] = values[3];
        }
    }

    [Fact]
    public void DecodeScores_StrideFourHeadWithLetterbox_MapsOutputCellsToTheOriginal()
    {
        // Original 8×4, letterboxed into 16×16 at (0, 4) with content 16×8; the head outputs 4×4 (stride 4).
        // In output cells the content window is x ∈ [0, 4), y ∈ [1, 3); rows 0 and 3 are padding (NaN).
        // Nearest: x → floor(d · 4/8) = d / 2; y → floor(1 + d · 2/4) = 1, 1, 2, 2.
        // Probabilities, 16 classes: cell (row r, col c) is one-hot on class 4r + c.
        var geometry = new InputGeometry(8, 4, 16, 16, 0, 4, 16, 8);
        float[] scores = new float[16 * 16];
        for (int r = 0; r < 4; r++)
        {
            for (int c = 0; c < 4; c++)
            {
                for (int k = 0; k < 16; k++)
                {
                    scores[(k * 16) + (r * 4) + c] = r is 0 or 3 ? float.NaN : (k == (4 * r) + c ? 1f : 0f);
                }
            }
        }

        using ClassMap map = SemanticDecoder.DecodeScores(scores, 16, 4, 4, geometry, OutputKind.Probabilities, 16, Options(Interpolation.Nearest));

        for (int y = 0; y < 4; y++)
        {
            int r = y < 2 ? 1 : 2;
            for (int x = 0; x < 8; x++)
            {
                Assert.Equal((4 * r) + (x / 2), map.Classes.Row(y)[x]);
            }
        }

        // Class 4 (cell r1, c0) covers original rows 0–1 × columns 0–1.
        Assert.Equal(4, map.PixelCounts[4]);
        Assert.Equal(0, map.PixelCounts[0]);
        Assert.Equal(0, map.PixelCounts[12]);
    }

    [Fact]
    public void DecodeScores_StrideTwoBilinear_UpsamplesFromTheSmallerOutput()
    {
        // Input 4×1 (no padding), output 2×1 (stride 2), original 4×1: window [0, 2) → 4, the same taps as 2 → 4:
        // channel 1 − channel 0 = [−1, 3] → −1, 0, 2, 3 → classes 0, 0 (tie), 1, 1.
        var geometry = new InputGeometry(4, 1, 4, 1, 0, 0, 4, 1);

        using ClassMap map = SemanticDecoder.DecodeScores([0f, 0f, -1f, 3f], 2, 1, 2, geometry, OutputKind.Logits, 2, Options());

        Assert.Equal(new ushort[] { 0, 0, 1, 1 }, map.Classes.Span.ToArray());
        AssertByte(127.5f, map.Confidence!.Span[1]);
    }

    [Fact]
    public void DecodeScores_WrongLength_Throws()
    {
        Assert.Throws<ArgumentException>(() =>
            SemanticDecoder.DecodeScores(new float[7], 2, 2, 2, s_twoToFour, OutputKind.Logits, 2, Options()).Dispose());
    }

    [Fact]
    public void DecodeIndices_Int64_UpsamplesWithNearest()
    {
        // [[0, 1], [2, 3]] at 2×2 → 4×4 by floor(d/2): each index becomes a 2×2 block.
        long[] indices = [0, 1, 2, 3];

        using ClassMap map = SemanticDecoder.DecodeIndices<long>(indices, 2, 2, s_twoToFour, 4);

        Assert.Equal(
            new ushort[]
            {
                0, 0, 1, 1,
                0, 0, 1, 1,
                2, 2, 3, 3,
                2, 2, 3, 3,
            },
            map.Classes.Span.ToArray());
        Assert.Equal([4L, 4L, 4L, 4L], map.PixelCounts);
        Assert.Null(map.Confidence);
    }

    [Fact]
    public void DecodeIndices_Int32WithPadding_CropsToTheContent()
    {
        // Input 3×3, content 2×2 at (0, 0) (pad to a multiple), 99 in the padding column and row.
        var geometry = new InputGeometry(2, 2, 3, 3, 0, 0, 2, 2);
        int[] indices = [1, 0, 99, 0, 1, 99, 99, 99, 99];

        using ClassMap map = SemanticDecoder.DecodeIndices<int>(indices, 3, 3, geometry, 2);

        Assert.Equal(new ushort[] { 1, 0, 0, 1 }, map.Classes.Span.ToArray());
        Assert.Equal([2L, 2L], map.PixelCounts);
    }

    [Theory]
    [InlineData(4L)]
    [InlineData(-1L)]
    [InlineData(70_000L)]
    public void DecodeIndices_OutOfRangeIndex_ThrowsModelOutputException(long bad)
    {
        long[] indices = [0, 1, bad, 3];

        Assert.Throws<ModelOutputException>(() => SemanticDecoder.DecodeIndices<long>(indices, 2, 2, s_twoToFour, 4).Dispose());
    }

    [Fact]
    public void DecodeIndices_NegativeInt32_ThrowsModelOutputException()
    {
        Assert.Throws<ModelOutputException>(() => SemanticDecoder.DecodeIndices<int>([0, -1, 0, 0], 2, 2, s_twoToFour, 2).Dispose());
    }

    /// <summary>Confidence bytes are compared within ±1 of the hand-computed 0–255 value (rounding of float math).</summary>
    private static void AssertByte(float expected255, byte actual)
    {
        Assert.InRange(actual, Math.Max(0, (int)MathF.Round(expected255) - 1), Math.Min(255, (int)MathF.Round(expected255) + 1));
    }
}
