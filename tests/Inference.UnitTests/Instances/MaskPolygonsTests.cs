using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SegServe.Inference.Instances;
using SegServe.Inference.Masks;

namespace SegServe.Inference.UnitTests.Instances;

public sealed class MaskPolygonsTests
{
    private static CocoRle Mask(int height, int width, string rows)
    {
        string digits = rows.Replace("/", "", StringComparison.Ordinal);
        byte[] mask = new byte[height * width];
        for (int i = 0; i < mask.Length; i++)
        {
            mask[i] = (byte)(digits[i] - '0');
        }

        return CocoRle.Encode(mask, height, width);
    }

    /// <summary>Rasterises the polygons as pycocotools would (outer rings united, holes taken out).</summary>
    internal static byte[] Rasterise(IReadOnlyList<MaskPolygon> polygons, int height, int width)
    {
        byte[] result = new byte[height * width];
        foreach (MaskPolygon polygon in polygons)
        {
            byte[] outer = CocoRle.FromPolygons([polygon.Outer], height, width).Decode();
            for (int i = 0; i < result.Length; i++)
            {
                result[i] |= outer[i];
            }

            foreach (double[] hole in polygon.Holes)
            {
                byte[] cut = CocoRle.FromPolygons([hole], height, width).Decode();
                for (int i = 0; i < result.Length; i++)
                {
                    result[i] = (byte)(result[i] & ~cut[i]);
                }
            }
        }

        return result;
    }

    [Fact]
    public void Square_IsFourCornersOnThePixelEdges()
    {
        CocoRle mask = Mask(4, 4, "0000/0110/0110/0000");

        List<MaskPolygon> polygons = MaskPolygons.Trace(mask, 0);

        MaskPolygon only = Assert.Single(polygons);
        Assert.Equal([1.0, 1, 3, 1, 3, 3, 1, 3], RotateToMin(only.Outer));
        Assert.Empty(only.Holes);
    }

    [Fact]
    public void Ring_HasAHole()
    {
        CocoRle mask = Mask(5, 5, "00000/01110/01010/01110/00000");

        MaskPolygon only = Assert.Single(MaskPolygons.Trace(mask, 0));

        double[] hole = Assert.Single(only.Holes);
        Assert.Equal(8, hole.Length); // the one-pixel hole: 4 corners
        Assert.Equal(mask.Decode(), Rasterise([only], 5, 5));
    }

    [Fact]
    public void DiagonalPixels_AreTwoPolygons()
    {
        CocoRle mask = Mask(2, 2, "10/01");

        List<MaskPolygon> polygons = MaskPolygons.Trace(mask, 0);

        Assert.Equal(2, polygons.Count);
        Assert.Equal(mask.Decode(), Rasterise(polygons, 2, 2));
    }

    [Fact]
    public void Empty_HasNoPolygons() => Assert.Empty(MaskPolygons.Trace(Mask(2, 2, "00/00"), 1));

    [Property(MaxTest = 100)]
    public Property Unsimplified_RasterisesBackToTheMask() =>
        Prop.ForAll(
            (from h in Gen.Choose(1, 24)
             from w in Gen.Choose(1, 24)
             from seed in Gen.Choose(0, int.MaxValue)
             select (h, w, seed)).ToArbitrary(),
            c =>
            {
                // Blobs: a few random discs, so there are holes, touching parts and border contact.
                var random = new Random(c.seed);
                byte[] mask = new byte[c.h * c.w];
                for (int d = 0; d < 4; d++)
                {
                    int cx = random.Next(c.w), cy = random.Next(c.h), r = random.Next(1, 6);
                    bool clear = random.Next(3) == 0;
                    for (int y = 0; y < c.h; y++)
                    {
                        for (int x = 0; x < c.w; x++)
                        {
                            if (((x - cx) * (x - cx)) + ((y - cy) * (y - cy)) < r * r)
                            {
                                mask[(y * c.w) + x] = clear ? (byte)0 : (byte)1;
                            }
                        }
                    }
                }

                CocoRle rle = CocoRle.Encode(mask, c.h, c.w);
                Assert.Equal(mask, Rasterise(MaskPolygons.Trace(rle, 0), c.h, c.w));
            });

    private static double[] RotateToMin(double[] ring)
    {
        int n = ring.Length / 2, start = 0;
        for (int i = 1; i < n; i++)
        {
            if (ring[(2 * i) + 1] < ring[(2 * start) + 1] || (ring[(2 * i) + 1] == ring[(2 * start) + 1] && ring[2 * i] < ring[2 * start]))
            {
                start = i;
            }
        }

        double[] rotated = new double[ring.Length];
        for (int i = 0; i < n; i++)
        {
            rotated[2 * i] = ring[2 * ((start + i) % n)];
            rotated[(2 * i) + 1] = ring[(2 * ((start + i) % n)) + 1];
        }

        return rotated;
    }
}
