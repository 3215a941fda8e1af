using SegServe.Inference.Masks;

namespace SegServe.Inference.UnitTests.Masks;

/// <summary>
/// The polygon rasteriser visits only the column crossings inside the image; these tests hold it to the full
/// point-by-point trace of pycocotools' <c>rleFrPoly</c> (kept below as the reference, as the rasteriser was before)
/// and show that coordinates far outside the image no longer cost their distance.
/// </summary>
public sealed class PolygonClippingTests
{
    [Fact]
    public void RandomPolygons_InAndAroundTheImage_HaveTheReferencePixels()
    {
        var random = new Random(20261207);
        for (int n = 0; n < 3000; n++)
        {
            int h = random.Next(1, 24);
            int w = random.Next(1, 24);
            int points = random.Next(3, 9);
            double[] xy = new double[points * 2];
            for (int i = 0; i < xy.Length; i++)
            {
                double extent = i % 2 == 0 ? w : h;
                // Mostly inside, some outside on every side, some on whole and half pixels.
                double value = (random.NextDouble() * extent * 3) - extent;
                xy[i] = random.Next(4) switch
                {
                    0 => Math.Round(value),
                    1 => Math.Round(value * 2) / 2,
                    _ => value,
                };
            }

            CocoRle clipped = CocoRle.FromPolygons([xy], h, w);

            Assert.Equal(Reference.Counts(xy, h, w), clipped.Counts);
        }
    }

    [Fact]
    public void AnEdgeReachingFarOutside_CostsOnlyTheImage()
    {
        // The 10×10 ground truth of the polygon memory bomb: an edge 3·10⁸ pixels long above the image. Traced point
        // by point it needs ~1.5·10⁹ steps; clipped, it is the same (empty) column crossings as a short edge.
        double[][] bomb = [[0, 0, 0, -3e8, 1, 0]];
        long before = GC.GetAllocatedBytesForCurrentThread();
        CocoRle far = CocoRle.FromPolygons(bomb, 10, 10);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.InRange(allocated, 0, 16 * 1024);
        CocoRle near = CocoRle.FromPolygons([[0, 0, 0, -50, 1, 0]], 10, 10);

        Assert.Equal(Reference.Counts([0, 0, 0, -50, 1, 0], 10, 10), near.Counts);
        Assert.Equal(near.Counts, far.Counts);
        Assert.Equal(100, far.Counts.Sum(static c => (long)c));
    }

    [Fact]
    public void AWideTriangleFarOutside_CrossesEachColumnOnce()
    {
        // Spans 4·10⁷ pixels sideways: only the image's 8 columns are visited.
        CocoRle rle = CocoRle.FromPolygons([[-2e7, 4, 2e7, 4, 0, 20]], 8, 8);

        Assert.Equal(Reference.Counts([-2e3, 4, 2e3, 4, 0, 20], 8, 8), rle.Counts);
        Assert.Equal(8 * 4, rle.Area);
    }

    [Fact]
    public void MoreCrossingsThanAllowed_AndCoordinatesBeyondTheMaximum_AreFormatErrors()
    {
        double[] zigzag = [.. Enumerable.Range(0, 40).SelectMany(static i => new double[] { i % 2 == 0 ? 0 : 9, i * 0.25 })];

        Assert.Throws<FormatException>(() => CocoRle.FromPolygons([zigzag], 10, 10, maxCrossings: 50));
        Assert.Equal(Reference.Counts(zigzag, 10, 10), CocoRle.FromPolygons([zigzag], 10, 10, maxCrossings: 1000).Counts);
        Assert.Throws<FormatException>(() => CocoRle.FromPolygons([[0, 0, 2e9, 0, 0, 1]], 10, 10));
        Assert.Throws<FormatException>(() => CocoRle.FromPolygons([[0, 0, double.NaN, 0, 0, 1]], 10, 10));
    }

    /// <summary>The full trace of pycocotools' rleFrPoly: every point of every edge at 5× resolution.</summary>
    private static class Reference
    {
        public static uint[] Counts(double[] xy, int h, int w)
        {
            const double Scale = 5;
            int k = xy.Length / 2;
            var x = new int[k + 1];
            var y = new int[k + 1];
            for (int j = 0; j < k; j++)
            {
                x[j] = (int)((Scale * xy[j * 2]) + .5);
                y[j] = (int)((Scale * xy[(j * 2) + 1]) + .5);
            }

            x[k] = x[0];
            y[k] = y[0];
            var u = new List<int>();
            var v = new List<int>();
            for (int j = 0; j < k; j++)
            {
                int xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
                int dx = Math.Abs(xe - xs);
                int dy = Math.Abs(ys - ye);
                bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
                if (flip)
                {
                    (xs, xe) = (xe, xs);
                    (ys, ye) = (ye, ys);
                }

                double s = dx >= dy ? (double)(ye - ys) / dx : (double)(xe - xs) / dy;
                if (dx >= dy)
                {
                    for (int d = 0; d <= dx; d++)
                    {
                        int t = flip ? dx - d : d;
                        u.Add(t + xs);
                        v.Add((int)(ys + (s * t) + .5));
                    }
                }
                else
                {
                    for (int d = 0; d <= dy; d++)
                    {
                        int t = flip ? dy - d : d;
                        v.Add(t + ys);
                        u.Add((int)(xs + (s * t) + .5));
                    }
                }
            }

            var crossings = new List<uint>();
            for (int j = 1; j < u.Count; j++)
            {
                if (u[j] == u[j - 1])
                {
                    continue;
                }

                double xd = u[j] < u[j - 1] ? u[j] : u[j] - 1;
                xd = ((xd + .5) / Scale) - .5;
                if (Math.Floor(xd) != xd || xd < 0 || xd > w - 1)
                {
                    continue;
                }

                double yd = v[j] < v[j - 1] ? v[j] : v[j - 1];
                yd = ((yd + .5) / Scale) - .5;
                yd = yd < 0 ? 0 : yd > h ? h : yd;
                yd = Math.Ceiling(yd);
                crossings.Add((uint)(((int)xd * h) + (int)yd));
            }

            crossings.Add((uint)(h * w));
            crossings.Sort();
            uint previous = 0;
            for (int j = 0; j < crossings.Count; j++)
            {
                uint t = crossings[j];
                crossings[j] -= previous;
                previous = t;
            }

            var b = new List<uint> { crossings[0] };
            int i = 1;
            while (i < crossings.Count)
            {
                if (crossings[i] > 0)
                {
                    b.Add(crossings[i++]);
                }
                else
                {
                    i++;
                    if (i < crossings.Count)
                    {
                        b[^1] += crossings[i++];
                    }
                }
            }

            return [.. b];
        }
    }
}
