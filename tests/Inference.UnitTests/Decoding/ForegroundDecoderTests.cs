using SegServe.Inference.Decoding;
using SegServe.Inference.Memory;
using SegServe.Inference.Models;
using SegServe.Inference.Preprocessing;

namespace SegServe.Inference.UnitTests.Decoding;

public sealed class ForegroundDecoderTests
{
    // 2×2 output → 4×4 original: bilinear taps per axis at t = 0, 0.25, 0.75, 1 (see SemanticDecoderTests).
    private static readonly InputGeometry s_twoToFour = new(4, 4, 2, 2, 0, 0, 2, 2);

    private static byte Byte(double p) => (byte)((p * 255) + 0.5);

    [Fact]
    public void Sigmoid_PersonClass_IsTheProbabilityUpsampledBilinearly()
    {
        // p = [[0, 0.8], [0.4, 1]]; the first row of the upsampled map is 0, 0.2, 0.6, 0.8 and the last 0.4, 0.55, 0.85, 1.
        float[] scores = [0f, 0.8f, 0.4f, 1f];

        using Plane<byte> mask = SemanticDecoder.DecodeForeground<float>(scores, 1, 2, 2, s_twoToFour, OutputKind.Sigmoid, classId: 1);

        Assert.Equal([Byte(0), Byte(0.2), Byte(0.6), Byte(0.8)], mask.Row(0).ToArray());
        Assert.Equal([Byte(0.4), Byte(0.55), Byte(0.85), Byte(1)], mask.Row(3).ToArray());
    }

    [Fact]
    public void Sigmoid_BackgroundClass_IsOneMinusTheProbability()
    {
        float[] scores = [0f, 0.8f, 0.4f, 1f];

        using Plane<byte> mask = SemanticDecoder.DecodeForeground<float>(scores, 1, 2, 2, s_twoToFour, OutputKind.Sigmoid, classId: 0);

        Assert.Equal([Byte(1), Byte(0.8), Byte(0.4), Byte(0.2)], mask.Row(0).ToArray());
    }

    [Fact]
    public void Logits_AreSoftmaxedBeforeUpsampling()
    {
        // Two classes on a 1×2 output, logits for class 1: ln 3 and 0, class 0: 0 and 0.
        // Softmax of class 1: 3/4 and 1/2. Identity geometry (1×2 → 1×2) keeps them as they are.
        var geometry = new InputGeometry(2, 1, 2, 1, 0, 0, 2, 1);
        float[] scores = [0f, 0f, MathF.Log(3f), 0f];

        using Plane<byte> mask = SemanticDecoder.DecodeForeground<float>(scores, 2, 1, 2, geometry, OutputKind.Logits, classId: 1);

        Assert.Equal([Byte(0.75), Byte(0.5)], mask.Span.ToArray());
    }

    [Fact]
    public void Logits_LargeValues_DoNotOverflow()
    {
        var geometry = new InputGeometry(1, 1, 1, 1, 0, 0, 1, 1);
        float[] scores = [1000f, 1000f, 1000f];

        using Plane<byte> mask = SemanticDecoder.DecodeForeground<float>(scores, 3, 1, 1, geometry, OutputKind.Logits, classId: 2);

        Assert.Equal(Byte(1 / 3.0), mask.Span[0]);
    }

    [Fact]
    public void Probabilities_TakeTheClassChannel()
    {
        var geometry = new InputGeometry(2, 1, 2, 1, 0, 0, 2, 1);
        float[] scores = [0.9f, 0.2f, 0.1f, 0.8f];

        using Plane<byte> mask = SemanticDecoder.DecodeForeground<float>(scores, 2, 1, 2, geometry, OutputKind.Probabilities, classId: 1);

        Assert.Equal([Byte(0.1), Byte(0.8)], mask.Span.ToArray());
    }

    [Fact]
    public void ClassIndices_BecomeZeroOrOneThenBlendAtTheEdge()
    {
        // Indices [[3, 7], [7, 7]] and class 7: [[0, 1], [1, 1]], upsampled bilinearly: row 0 = 0, 0.25, 0.75, 1.
        long[] indices = [3, 7, 7, 7];

        using Plane<byte> mask = SemanticDecoder.DecodeForeground<long>(indices, 1, 2, 2, s_twoToFour, OutputKind.ClassIndices, classId: 7);

        Assert.Equal([Byte(0), Byte(0.25), Byte(0.75), Byte(1)], mask.Row(0).ToArray());
        Assert.Equal([Byte(1), Byte(1), Byte(1), Byte(1)], mask.Row(3).ToArray());
    }

    [Fact]
    public void Letterbox_IsCroppedBeforeUpsampling()
    {
        // A 4×2 input whose content is the middle 2×2 (columns 1–2); padding columns hold 1s that must not leak in.
        var geometry = new InputGeometry(2, 2, 4, 2, 1, 0, 2, 2);
        float[] scores = [1f, 0.25f, 0.5f, 1f, 1f, 0f, 0.75f, 1f];

        using Plane<byte> mask = SemanticDecoder.DecodeForeground<float>(scores, 1, 2, 4, geometry, OutputKind.Sigmoid, classId: 1);

        Assert.Equal([Byte(0.25), Byte(0.5), Byte(0), Byte(0.75)], mask.Span.ToArray());
    }

    [Fact]
    public void ClassWithoutAChannel_IsRejected()
    {
        var geometry = new InputGeometry(1, 1, 1, 1, 0, 0, 1, 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => SemanticDecoder.DecodeForeground<float>([0f, 1f], 2, 1, 1, geometry, OutputKind.Logits, classId: 2));
    }
}
