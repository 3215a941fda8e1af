using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SegServe.Inference.Decoding;
using SegServe.Inference.Geometry;
using SegServe.Inference.Models;
using SegServe.Inference.Preprocessing;

namespace SegServe.Inference.UnitTests.Decoding;

/// <summary>Properties of the resamplers and the decoder over generated sizes and maps.</summary>
public sealed class SemanticDecoderProperties
{
    private static readonly Interpolation[] s_methods = [Interpolation.Nearest, Interpolation.Bilinear, Interpolation.Bicubic];

    private static Gen<Interpolation> Methods => Gen.Elements(s_methods);

    [Property(MaxTest = 200)]
    public Property Create_AnySizes_WeightsSumToOneAndIndicesStayInTheWindow() =>
        Prop.ForAll(
            (from method in Methods
             from source in Gen.Choose(1, 40)
             from start in Gen.Choose(0, source - 1)
             from length in Gen.Choose(1, source - start)
             from output in Gen.Choose(1, 120)
             select (method, source, start, length, output)).ToArbitrary(),
            c =>
            {
                using AxisSampling s = AxisSampling.Create(c.method, c.source, c.start, c.length, c.output);
                for (int d = 0; d < s.Length; d++)
                {
                    float sum = 0f;
                    for (int k = 0; k < s.Taps; k++)
                    {
                        int index = s.Indices[(d * s.Taps) + k];
                        float weight = s.Weights[(d * s.Taps) + k];
                        if (index < c.start || index >= c.start + c.length)
                        {
                            return false;
                        }

                        // Nearest and bilinear never extrapolate; bicubic's outer taps may be negative.
                        if (c.method != Interpolation.Bicubic && (weight < 0f || weight > 1f))
                        {
                            return false;
                        }

                        sum += weight;
                    }

                    if (MathF.Abs(sum - 1f) > 1e-5f)
                    {
                        return false;
                    }
                }

                return true;
            });

    [Property(MaxTest = 100)]
    public Property DecodeScores_ConstantMap_GivesTheConstantEverywhere() =>
        Prop.ForAll(
            (from method in Methods
             from w in Gen.Choose(1, 6)
             from h in Gen.Choose(1, 6)
             from ow in Gen.Choose(1, 24)
             from oh in Gen.Choose(1, 24)
             from level in Gen.Choose(5, 95)
             select (method, w, h, ow, oh, value: level / 100f)).ToArbitrary(),
            c =>
            {
                // A constant sigmoid map v, thresholded just below and just above v: all foreground, then all background;
                // its confidence is v·255 everywhere (±1).
                var geometry = new InputGeometry(c.ow, c.oh, c.w, c.h, 0, 0, c.w, c.h);
                float[] scores = Enumerable.Repeat(c.value, c.w * c.h).ToArray();
                int pixels = c.ow * c.oh;
                using ClassMap below = SemanticDecoder.DecodeScores(scores, 1, c.h, c.w, geometry, OutputKind.Sigmoid, 2, new(c.method, c.value - 1e-3f, true));
                using ClassMap above = SemanticDecoder.DecodeScores(scores, 1, c.h, c.w, geometry, OutputKind.Sigmoid, 2, new(c.method, c.value + 1e-3f, true));
                int expected = (int)MathF.Round(c.value * 255f);
                bool confidenceConstant = below.Confidence!.Span.ToArray().All(b => Math.Abs(b - expected) <= 1);
                return below.PixelCounts[1] == pixels && above.PixelCounts[0] == pixels && confidenceConstant;
            });

    [Property(MaxTest = 100)]
    public Property DecodeIndices_IntegerFactor_ReplicatesEachPixelKByK() =>
        Prop.ForAll(
            (from w in Gen.Choose(1, 8)
             from h in Gen.Choose(1, 8)
             from k in Gen.Choose(1, 7)
             from classes in Gen.Choose(0, 9).ArrayOf(w * h)
             select (w, h, k, classes)).ToArbitrary(),
            c =>
            {
                var geometry = new InputGeometry(c.w * c.k, c.h * c.k, c.w, c.h, 0, 0, c.w, c.h);
                using ClassMap map = SemanticDecoder.DecodeIndices<int>(c.classes, c.h, c.w, geometry, 10);
                for (int y = 0; y < map.Height; y++)
                {
                    for (int x = 0; x < map.Width; x++)
                    {
                        if (map.Classes.Row(y)[x] != c.classes[((y / c.k) * c.w) + (x / c.k)])
                        {
                            return false;
                        }
                    }
                }

                return true;
            });

    [Property(MaxTest = 100)]
    public Property DecodeScores_NearestIntegerFactor_ReplicatesEachPixelKByK() =>
        Prop.ForAll(
            (from w in Gen.Choose(1, 6)
             from h in Gen.Choose(1, 6)
             from k in Gen.Choose(1, 6)
             from logits in Gen.Choose(-100, 100).ArrayOf(3 * w * h)
             select (w, h, k, logits)).ToArbitrary(),
            c =>
            {
                var geometry = new InputGeometry(c.w * c.k, c.h * c.k, c.w, c.h, 0, 0, c.w, c.h);
                float[] scores = c.logits.Select(v => (float)v).ToArray();
                using ClassMap small = SemanticDecoder.DecodeScores(scores, 3, c.h, c.w, new InputGeometry(c.w, c.h, c.w, c.h, 0, 0, c.w, c.h), OutputKind.Logits, 3, new(Interpolation.Nearest, 0.5f, false));
                using ClassMap map = SemanticDecoder.DecodeScores(scores, 3, c.h, c.w, geometry, OutputKind.Logits, 3, new(Interpolation.Nearest, 0.5f, false));
                for (int y = 0; y < map.Height; y++)
                {
                    for (int x = 0; x < map.Width; x++)
                    {
                        if (map.Classes.Row(y)[x] != small.Classes.Row(y / c.k)[x / c.k])
                        {
                            return false;
                        }
                    }
                }

                return true;
            });

    [Property(MaxTest = 100)]
    public Property DecodeScores_Bilinear_StaysWithinTheInputRange() =>
        Prop.ForAll(
            (from w in Gen.Choose(1, 6)
             from h in Gen.Choose(1, 6)
             from ow in Gen.Choose(1, 24)
             from oh in Gen.Choose(1, 24)
             from levels in Gen.Choose(0, 1000).ArrayOf(w * h)
             select (w, h, ow, oh, levels)).ToArbitrary(),
            c =>
            {
                // Sigmoid thresholds bracket the output: strictly above max → nothing is foreground;
                // strictly below min → everything is (the margin 1e-4 only absorbs float rounding).
                var geometry = new InputGeometry(c.ow, c.oh, c.w, c.h, 0, 0, c.w, c.h);
                float[] scores = c.levels.Select(v => v / 1000f).ToArray();
                float min = scores.Min();
                float max = scores.Max();
                using ClassMap aboveMax = SemanticDecoder.DecodeScores(scores, 1, c.h, c.w, geometry, OutputKind.Sigmoid, 2, new(Interpolation.Bilinear, max + 1e-4f, false));
                using ClassMap belowMin = SemanticDecoder.DecodeScores(scores, 1, c.h, c.w, geometry, OutputKind.Sigmoid, 2, new(Interpolation.Bilinear, min - 1e-4f, false));
                return aboveMax.PixelCounts[1] == 0 && belowMin.PixelCounts[1] == c.ow * c.oh;
            });

    [Property(MaxTest = 100)]
    public Property DecodeScores_PixelCounts_SumToWidthTimesHeight() =>
        Prop.ForAll(
            (from method in Methods
             from channels in Gen.Choose(2, 5)
             from w in Gen.Choose(1, 6)
             from h in Gen.Choose(1, 6)
             from ow in Gen.Choose(1, 20)
             from oh in Gen.Choose(1, 20)
             from logits in Gen.Choose(-50, 50).ArrayOf(channels * w * h)
             select (method, channels, w, h, ow, oh, logits)).ToArbitrary(),
            c =>
            {
                var geometry = new InputGeometry(c.ow, c.oh, c.w, c.h, 0, 0, c.w, c.h);
                float[] scores = c.logits.Select(v => v / 10f).ToArray();
                using ClassMap map = SemanticDecoder.DecodeScores(scores, c.channels, c.h, c.w, geometry, OutputKind.Logits, c.channels, new(c.method, 0.5f, true));
                return map.PixelCounts.Sum() == (long)c.ow * c.oh && map.Classes.Span.ToArray().All(id => id < c.channels);
            });
}
