using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using SegServe.Inference.Masks;

namespace SegServe.Inference.UnitTests.Masks;

public sealed class CocoRleTests
{
    [Fact]
    public void Encode_RunsGoDownTheColumns_HandWorked()
    {
        // h = 3, w = 2, row-major:  0 1 / 1 1 / 0 0. Column-major: 0,1,0 then 1,1,0 → runs 1,1,1,2,1.
        byte[] mask = [0, 1, 1, 1, 0, 0];

        CocoRle rle = CocoRle.Encode(mask, 3, 2);

        Assert.Equal([1u, 1u, 1u, 2u, 1u], rle.Counts);
        Assert.Equal(3, rle.Area);
        // Counts from the fourth on are deltas against two back: 2 − 1 = 1, 1 − 1 = 0.
        Assert.Equal("11110", rle.ToCompressedString());
    }

    [Theory]
    [InlineData(new uint[] { 4 }, "4")]              // empty 2×2
    [InlineData(new uint[] { 0, 4 }, "04")]          // full 2×2: starts with a zero-length 0-run
    [InlineData(new uint[] { 3, 1 }, "31")]          // single pixel, last in column-major order
    [InlineData(new uint[] { 40 }, "X1")]            // 40 = 8 + 1·32: low group 8 with the "more" bit, then 1
    [InlineData(new uint[] { 0, 5, 0, 2 }, "050M")]  // 2 − 5 = −3: one group, sign-extended (29 + 48 = 'M')
    public void CompressedString_HandWorked(uint[] counts, string expected)
    {
        long total = counts.Sum(c => (long)c);
        var rle = new CocoRle(1, (int)total, counts);

        Assert.Equal(expected, rle.ToCompressedString());
        Assert.Equal(counts, CocoRle.FromCompressedString(expected, 1, (int)total).Counts);
    }

    [Theory]
    [InlineData(3, 4, "0110/0110/0010", "32112")]
    [InlineData(10, 10, null, "T3")]
    [InlineData(2, 3, "111/111", "06")]
    public void Encode_MatchesTheFixtureGeneratorsPycocotoolsEncodings(int h, int w, string? rows, string expected)
    {
        // Hand-worked cases from shared/fixtures/formats/maskrcnn_small.json ("rle_encoder" self test).
        byte[] mask = new byte[h * w];
        if (rows is not null)
        {
            string digits = rows.Replace("/", "", StringComparison.Ordinal);
            for (int i = 0; i < mask.Length; i++)
            {
                mask[i] = (byte)(digits[i] - '0');
            }
        }

        Assert.Equal(expected, CocoRle.Encode(mask, h, w).ToCompressedString());
    }

    [Fact]
    public void Encode_FiveByTenFixtureCase()
    {
        // "5x10 col0 + (0,9),(1,9)": column 0 set, and rows 0–1 of column 9.
        byte[] mask = new byte[50];
        for (int y = 0; y < 5; y++)
        {
            mask[y * 10] = 1;
        }

        mask[9] = 1;
        mask[19] = 1;

        Assert.Equal("05X1MkN", CocoRle.Encode(mask, 5, 10).ToCompressedString());
    }

    [Theory]
    [InlineData("maskrcnn_small")]
    [InlineData("detectron2_style_small")]
    public void FixtureDetections_DecodeToTheirPixelCounts_AndReEncodeToTheSameStrings(string fixture)
    {
        string root = Path.Combine(Imaging.SharedData.Require("."), "..", "fixtures", "formats", "expected", fixture);
        int checkedMasks = 0;
        foreach (string file in Directory.GetFiles(root, "detections.json", SearchOption.AllDirectories))
        {
            using var document = System.Text.Json.JsonDocument.Parse(File.ReadAllText(file));
            foreach (System.Text.Json.JsonElement detection in document.RootElement.GetProperty("detections").EnumerateArray())
            {
                System.Text.Json.JsonElement segmentation = detection.GetProperty("segmentation");
                int h = segmentation.GetProperty("size")[0].GetInt32();
                int w = segmentation.GetProperty("size")[1].GetInt32();
                string counts = segmentation.GetProperty("counts").GetString()!;
                long pixels = (detection.TryGetProperty("mask_pixels_gt_0.5", out System.Text.Json.JsonElement p) ? p : detection.GetProperty("mask_pixels")).GetInt64();

                CocoRle rle = CocoRle.FromCompressedString(counts, h, w);

                Assert.Equal(pixels, rle.Area);
                Assert.Equal(counts, CocoRle.Encode(rle.Decode(), h, w).ToCompressedString());
                checkedMasks++;
            }
        }

        Assert.True(checkedMasks > 0, $"no detections found under {root}");
    }

    [Property(MaxTest = 200)]
    public Property EncodeDecode_RoundTrips_IncludingEmptyFullAndBorderMasks() =>
        Prop.ForAll(
            (from h in Gen.Choose(1, 30)
             from w in Gen.Choose(1, 30)
             from kind in Gen.Choose(0, 4)
             from seed in Gen.Choose(0, int.MaxValue)
             select (h, w, kind, seed)).ToArbitrary(),
            c =>
            {
                var random = new Random(c.seed);
                byte[] mask = new byte[c.h * c.w];
                for (int i = 0; i < mask.Length; i++)
                {
                    int x = i % c.w, y = i / c.w;
                    mask[i] = c.kind switch
                    {
                        0 => 0,                                                         // empty
                        1 => 1,                                                         // full
                        2 => (byte)(i == random.Next(mask.Length) ? 1 : 0),             // at most one pixel
                        3 => (byte)(x == 0 || y == 0 || x == c.w - 1 || y == c.h - 1 ? 1 : 0), // touches every border
                        _ => (byte)random.Next(2),
                    };
                }

                CocoRle rle = CocoRle.Encode(mask, c.h, c.w);
                CocoRle parsed = CocoRle.FromCompressedString(rle.ToCompressedString(), c.h, c.w);

                Assert.Equal(mask, parsed.Decode());
                Assert.Equal(mask.Count(v => v != 0), parsed.Area);
            });

    [Fact]
    public void Polygon_Square_RasterisesAsPycocotools()
    {
        // [0,0, 4,0, 4,4, 0,4] on a 6×6 image: pycocotools' rasteriser covers columns 0–3, rows 0–3.
        CocoRle rle = CocoRle.FromPolygons([[0, 0, 4, 0, 4, 4, 0, 4]], 6, 6);

        Assert.Equal([0u, 4u, 2u, 4u, 2u, 4u, 2u, 4u, 14u], rle.Counts);
        Assert.Equal(16, rle.Area);
    }

    [Fact]
    public void Polygons_AreMergedAsAUnion()
    {
        CocoRle rle = CocoRle.FromPolygons([[0, 0, 2, 0, 2, 2, 0, 2], [1, 1, 3, 1, 3, 3, 1, 3]], 4, 4);

        // Two 2×2 squares overlapping in one pixel: 4 + 4 − 1.
        Assert.Equal(7, rle.Area);
    }

    [Fact]
    public void Iou_OfOverlappingMasks_AndCrowdUsesTheDetectionArea()
    {
        CocoRle a = Box(10, 10, 0, 0, 4, 4);   // 16 px
        CocoRle b = Box(10, 10, 2, 0, 6, 4);   // 16 px, 8 in common

        Assert.Equal(8.0 / 24, CocoRle.Iou(a, b, crowd: false), 12);
        Assert.Equal(8.0 / 16, CocoRle.Iou(a, b, crowd: true), 12);
        Assert.Equal(0, CocoRle.Iou(a, Box(10, 10, 6, 6, 8, 8), crowd: false));
        Assert.Equal(-1, CocoRle.Iou(a, Box(9, 10, 0, 0, 4, 4), crowd: false));
    }

    [Fact]
    public void BadStrings_AreRejected()
    {
        Assert.Throws<FormatException>(() => CocoRle.FromCompressedString("4", 2, 3));    // covers 4 of 6 pixels
        Assert.Throws<FormatException>(() => CocoRle.FromCompressedString("X", 1, 40));   // ends mid-count
        Assert.Throws<FormatException>(() => CocoRle.FromCompressedString("~", 1, 1));    // not an RLE character
    }

    internal static CocoRle Box(int h, int w, int x1, int y1, int x2, int y2)
    {
        byte[] mask = new byte[h * w];
        for (int y = y1; y < y2; y++)
        {
            for (int x = x1; x < x2; x++)
            {
                mask[(y * w) + x] = 1;
            }
        }

        return CocoRle.Encode(mask, h, w);
    }
}
