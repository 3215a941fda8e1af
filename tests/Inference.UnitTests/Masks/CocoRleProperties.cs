using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SegServe.Inference.Masks;

namespace SegServe.Inference.UnitTests.Masks;

/// <summary>IoU and union on runs agree with the same operations on the decoded pixels, for any masks.</summary>
public sealed class CocoRleProperties
{
    private static Arbitrary<(int Height, int Width, byte[][] Masks)> MaskSets(int count) =>
        (from height in Gen.Choose(1, 9)
         from width in Gen.Choose(1, 9)
         from masks in Gen.ArrayOf(Gen.ArrayOf(Gen.Elements<byte>(0, 1), height * width), count)
         select (height, width, masks)).ToArbitrary();

    [Property(MaxTest = 300)]
    public Property Iou_EqualsThePixelCount() =>
        Prop.ForAll(MaskSets(2), c =>
        {
            (byte[] a, byte[] b) = (c.Masks[0], c.Masks[1]);
            long intersection = 0, union = 0, areaA = 0;
            for (int i = 0; i < a.Length; i++)
            {
                intersection += a[i] & b[i];
                union += a[i] | b[i];
                areaA += a[i];
            }

            CocoRle ra = CocoRle.Encode(a, c.Height, c.Width), rb = CocoRle.Encode(b, c.Height, c.Width);
            double expected = intersection == 0 ? 0 : (double)intersection / union;
            double expectedCrowd = intersection == 0 ? 0 : (double)intersection / areaA;
            return Math.Abs(CocoRle.Iou(ra, rb, crowd: false) - expected) < 1e-12
                && Math.Abs(CocoRle.Iou(ra, rb, crowd: true) - expectedCrowd) < 1e-12;
        });

    [Property(MaxTest = 300)]
    public Property Union_IsTheEncodingOfThePixelwiseOr() =>
        Prop.ForAll(MaskSets(3), c =>
        {
            var or = new byte[c.Height * c.Width];
            var parts = new List<CocoRle>();
            foreach (byte[] mask in c.Masks)
            {
                parts.Add(CocoRle.Encode(mask, c.Height, c.Width));
                for (int i = 0; i < or.Length; i++)
                {
                    or[i] |= mask[i];
                }
            }

            return CocoRle.Union(parts, c.Height, c.Width).Counts.SequenceEqual(CocoRle.Encode(or, c.Height, c.Width).Counts);
        });
}
