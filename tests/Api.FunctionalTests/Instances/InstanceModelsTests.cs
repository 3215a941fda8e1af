using System.Text.Json;
using SegServe.Api.FunctionalTests.Infrastructure;
using SegServe.Contracts;
using SegServe.Inference.Masks;

namespace SegServe.Api.FunctionalTests.Instances;

/// <summary>
/// Instance models in the exact formats the exporters produce, on the fixture photos, against the references in
/// <c>shared/fixtures/formats/expected</c>: every reference detection found, by class and box IoU &gt; 0.99, with mask IoU
/// ≥ 0.99 for at least 95% of the masks and ≥ 0.94 for all (the fixture README's one rounding case).
/// </summary>
public sealed class InstanceModelsTests(SegServeFactory factory) : IClassFixture<SegServeFactory>
{
    private readonly HttpClient _client = factory.CreateClient();

    [Theory]
    [InlineData("maskrcnn-small", "maskrcnn_small", "astronaut")]
    [InlineData("maskrcnn-small", "maskrcnn_small", "chelsea")]
    [InlineData("detectron2-small", "detectron2_style_small", "astronaut")]
    [InlineData("detectron2-small", "detectron2_style_small", "chelsea")]
    public async Task Detections_MatchTheReference(string model, string fixture, string photo)
    {
        (List<double> maskIous, _) = await MatchAsync(model, fixture, photo);
        Assert.True(maskIous.Min() >= 0.94, $"{photo}: a mask IoU is {maskIous.Min():0.000}");
    }

    [Fact]
    public async Task MaskIous_AtLeast95PercentAbove099_OverAllFixtureMasks()
    {
        // ONNX Runtime's in-graph paste of torchvision's export moves a few masks by a pixel against torch's (the
        // fixture README's rounding case, 2 of the 80 masks): the share is counted over all masks, as the issue states.
        var all = new List<double>();
        int equalStrings = 0;
        foreach ((string model, string fixture, string photo) in new[]
        {
            ("maskrcnn-small", "maskrcnn_small", "astronaut"),
            ("maskrcnn-small", "maskrcnn_small", "chelsea"),
            ("detectron2-small", "detectron2_style_small", "astronaut"),
            ("detectron2-small", "detectron2_style_small", "chelsea"),
        })
        {
            (List<double> ious, int equal) = await MatchAsync(model, fixture, photo);
            all.AddRange(ious);
            equalStrings += equal;
        }

        Assert.Equal(80, all.Count);
        Assert.True(all.Count(i => i >= 0.99) >= 0.95 * all.Count, $"only {all.Count(i => i >= 0.99)} of {all.Count} masks have IoU ≥ 0.99");
        Assert.True(equalStrings > all.Count / 2, $"only {equalStrings} of {all.Count} RLE strings equal the reference's");
    }

    /// <summary>Runs the model on the photo and matches every reference detection; returns the mask IoUs.</summary>
    private async Task<(List<double> MaskIous, int EqualStrings)> MatchAsync(string model, string fixture, string photo)
    {
        string image = SharedData.PathOf($"fixtures/formats/images/{photo}.png");
        string expectedPath = SharedData.PathOf($"fixtures/formats/expected/{fixture}/{photo}/detections.json");
        using HttpResponseMessage response = await _client.PostImageAsync($"/v1/models/{model}/segment?scoreThreshold=0&maxInstances=1000", image);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, body);
        InstanceSegmentationResponse result = JsonSerializer.Deserialize<InstanceSegmentationResponse>(body, HttpHelpers.Json)!;

        using JsonDocument reference = JsonDocument.Parse(await File.ReadAllTextAsync(expectedPath, TestContext.Current.CancellationToken));
        JsonElement[] expected = [.. reference.RootElement.GetProperty("detections").EnumerateArray()];
        Assert.Equal(expected.Length, result.Instances.Count);

        var unmatched = result.Instances.ToList();
        var maskIous = new List<double>();
        int equalStrings = 0;
        foreach (JsonElement e in expected)
        {
            int classId = (e.TryGetProperty("label", out JsonElement label) ? label : e.GetProperty("class_id")).GetInt32();
            double[] box = [.. (e.TryGetProperty("box_xyxy", out JsonElement b) ? b : e.GetProperty("box_xyxy_original")).EnumerateArray().Select(v => v.GetDouble())];
            InstanceResponse? match = unmatched
                .Where(i => i.ClassId == classId)
                .OrderByDescending(i => BoxIou(box, i.Box))
                .FirstOrDefault();
            Assert.True(
                match is not null && BoxIou(box, match.Box) > 0.99,
                $"{photo}: no detection of class {classId} with box [{string.Join(", ", box)}] (closest: {(match is null ? "none" : $"[{match.Box.X1}, {match.Box.Y1}, {match.Box.X2}, {match.Box.Y2}] score {match.Score}")}; found {string.Join("; ", result.Instances.Select(i => $"{i.ClassId}@{i.Score:0.000}"))})");
            unmatched.Remove(match!);

            JsonElement segmentation = e.GetProperty("segmentation");
            string counts = segmentation.GetProperty("counts").GetString()!;
            CocoRle truth = CocoRle.FromCompressedString(counts, result.Height, result.Width);
            CocoRle mine = CocoRle.FromCompressedString(match!.Mask.Counts, match.Mask.Size[0], match.Mask.Size[1]);
            maskIous.Add(truth.Area == 0 && mine.Area == 0 ? 1 : CocoRle.Iou(mine, truth, crowd: false));
            equalStrings += counts == match.Mask.Counts ? 1 : 0;
            Assert.Equal(mine.Area, match.Area);
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{model}/{photo}: {equalStrings}/{expected.Length} RLE equal, min mask IoU {maskIous.Min():0.0000}");
        return (maskIous, equalStrings);
    }

    [Theory]
    [InlineData("astronaut")]
    [InlineData("chelsea")]
    public async Task YoloSeg_MatchesTheReference(string photo)
    {
        // The reference: Ultralytics' decoding at conf 0.25, class-aware NMS at IoU 0.7; its masks are counted in the
        // 640×640 letterbox space (process_mask), ours are at the photo's size (process_mask_native): compare areas
        // through the letterbox gain.
        string image = SharedData.PathOf($"fixtures/formats/images/{photo}.png");
        string expectedPath = SharedData.PathOf($"fixtures/formats/expected/yolov8seg_tiny/{photo}/detections.json");
        InstanceSegmentationResponse result = (await PostJsonAsync("/v1/models/yolov8seg-tiny/segment", image))!;
        using JsonDocument reference = JsonDocument.Parse(await File.ReadAllTextAsync(expectedPath, TestContext.Current.CancellationToken));
        JsonElement[] expected = [.. reference.RootElement.GetProperty("detections").EnumerateArray()];
        Assert.Equal(expected.Length, result.Instances.Count);
        double gain = Math.Min(640.0 / result.Width, 640.0 / result.Height);
        var unmatched = result.Instances.ToList();
        foreach (JsonElement e in expected)
        {
            int classId = Number(e.GetProperty("class_id"));
            double[] box = Array(e.GetProperty("box_xyxy_original"));
            InstanceResponse? match = unmatched.Where(i => i.ClassId == classId).OrderByDescending(i => BoxIou(box, i.Box)).FirstOrDefault();
            Assert.True(match is not null && BoxIou(box, match.Box) > 0.99, $"{photo}: no detection of class {classId} with box [{string.Join(", ", box)}]");
            unmatched.Remove(match!);
            Assert.Equal(NumberD(e.GetProperty("score")), match!.Score, 3);
            Assert.Equal(e.GetProperty("class_name").GetString(), match.ClassName);
            double expectedArea = NumberD(e.GetProperty("mask_pixels_input640")) / (gain * gain);
            // The two paths differ at the edges by design (crop at 160² then upsample, vs upsample then crop at full
            // size): a band about the objects' outline, large against these few-dozen-pixel objects. A sanity check
            // only: the reference gives no masks to compare pixel by pixel.
            double tolerance = (0.25 * expectedArea) + (3 * Math.Sqrt(expectedArea));
            Assert.InRange(match.Area, expectedArea - tolerance, expectedArea + tolerance);
        }
    }

    private static double[] Array(JsonElement value) => value.ValueKind == JsonValueKind.String
        ? JsonSerializer.Deserialize<double[]>(value.GetString()!)!
        : [.. value.EnumerateArray().Select(v => v.GetDouble())];

    private static int Number(JsonElement value) => (int)NumberD(value);

    private static double NumberD(JsonElement value) => value.ValueKind == JsonValueKind.String
        ? double.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture)
        : value.GetDouble();

    [Theory]
    [InlineData("detectron2-small", "astronaut")]
    [InlineData("maskrcnn-small", "chelsea")]
    [InlineData("yolov8seg-tiny", "astronaut")]
    public async Task Polygons_RasteriseBackToTheMasks_AndCroppedMasksMatch(string model, string photo)
    {
        string image = SharedData.PathOf($"fixtures/formats/images/{photo}.png");
        InstanceSegmentationResponse result = (await PostJsonAsync($"/v1/models/{model}/segment?scoreThreshold=0.3&include=polygons,mask", image))!;
        Assert.NotEmpty(result.Instances);
        foreach (InstanceResponse instance in result.Instances)
        {
            CocoRle mask = CocoRle.FromCompressedString(instance.Mask.Counts, result.Height, result.Width);
            byte[] drawn = new byte[result.Width * result.Height];
            foreach (PolygonResponse polygon in instance.Polygons!)
            {
                byte[] outer = CocoRle.FromPolygons([[.. polygon.Outer]], result.Height, result.Width).Decode();
                for (int i = 0; i < drawn.Length; i++)
                {
                    drawn[i] |= outer[i];
                }

                foreach (IReadOnlyList<double> hole in polygon.Holes)
                {
                    byte[] cut = CocoRle.FromPolygons([[.. hole]], result.Height, result.Width).Decode();
                    for (int i = 0; i < drawn.Length; i++)
                    {
                        drawn[i] = (byte)(drawn[i] & ~cut[i]);
                    }
                }
            }

            double iou = CocoRle.Iou(CocoRle.Encode(drawn, result.Height, result.Width), mask, crowd: false);
            Assert.True(iou > 0.98, $"{model}/{photo} instance {instance.Id}: polygons rasterise to IoU {iou:0.0000} with the mask ({instance.Area} px)");

            CroppedMaskResponse crop = instance.CroppedMask!;
            using var png = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.L8>(Convert.FromBase64String(crop.Png));
            Assert.Equal((crop.Width, crop.Height), (png.Width, png.Height));
            long set = 0;
            byte[] decoded = mask.Decode();
            for (int y = 0; y < crop.Height; y++)
            {
                for (int x = 0; x < crop.Width; x++)
                {
                    bool on = png[x, y].PackedValue == 255;
                    set += on ? 1 : 0;
                    Assert.Equal(decoded[((crop.Y + y) * result.Width) + crop.X + x] != 0, on);
                }
            }

            Assert.Equal(instance.Area, set);
        }
    }

    [Fact]
    public async Task InstanceIdPng_PaintsEachInstance()
    {
        string image = SharedData.PathOf("fixtures/formats/images/chelsea.png");
        InstanceSegmentationResponse json = (await PostJsonAsync("/v1/models/detectron2-small/segment", image))!;
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/detectron2-small/segment", image, "image/png");
        Assert.Equal("image/png", response.Content.Headers.ContentType?.MediaType);
        using var png = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.L16>(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        Assert.Equal((json.Width, json.Height), (png.Width, png.Height));

        // The best-scored instance is painted last-over-everything: all its mask pixels carry id 1.
        InstanceResponse best = json.Instances[0];
        byte[] mask = CocoRle.FromCompressedString(best.Mask.Counts, json.Height, json.Width).Decode();
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i] != 0)
            {
                Assert.Equal(1, png[i % json.Width, i / json.Width].PackedValue);
            }
        }
    }

    [Theory]
    [InlineData("?scoreThreshold=1.5", "scoreThreshold")]
    [InlineData("?maskThreshold=-0.1", "maskThreshold")]
    [InlineData("?maxInstances=0", "maxInstances")]
    [InlineData("?classes=unicorn", "unicorn")]
    [InlineData("?upsample=bilinear", "upsample")]
    [InlineData("?include=confidence", "include")]
    [InlineData("?include=polygons&tolerance=-1", "tolerance")]
    public async Task BadParameters_Are400(string query, string named)
    {
        string image = SharedData.PathOf("fixtures/formats/images/chelsea.png");
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/maskrcnn-small/segment" + query, image);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Contains(named, problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClassesFilter_AndMaxInstances()
    {
        string image = SharedData.PathOf("fixtures/formats/images/astronaut.png");
        InstanceSegmentationResponse all = (await PostJsonAsync("/v1/models/detectron2-small/segment?scoreThreshold=0", image))!;
        string name = all.Instances[0].ClassName;
        InstanceSegmentationResponse filtered = (await PostJsonAsync($"/v1/models/detectron2-small/segment?scoreThreshold=0&classes={name}", image))!;
        Assert.All(filtered.Instances, i => Assert.Equal(name, i.ClassName));
        Assert.Equal(all.Instances.Count(i => i.ClassName == name), filtered.Instances.Count);

        InstanceSegmentationResponse top = (await PostJsonAsync("/v1/models/detectron2-small/segment?scoreThreshold=0&maxInstances=3", image))!;
        Assert.Equal(all.Instances.Take(3).Select(i => i.Score), top.Instances.Select(i => i.Score));
    }

    [Fact]
    public async Task SemanticParametersOnAnInstanceModel_AndInstanceParametersOnASemanticModel_Are400()
    {
        string image = SharedData.PathOf("fixtures/formats/images/chelsea.png");
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/espnetv2-voc/segment?scoreThreshold=0.5", image);
        ProblemBody problem = await response.ProblemAsync(400);
        Assert.Contains("instance models", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Overlay_DrawsTheInstances()
    {
        string image = SharedData.PathOf("fixtures/formats/images/chelsea.png");
        InstanceSegmentationResponse json = (await PostJsonAsync("/v1/models/detectron2-small/segment", image))!;
        Assert.NotEmpty(json.Instances);
        using HttpResponseMessage response = await _client.PostImageAsync("/v1/models/detectron2-small/overlay?alpha=0.6", image);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        using var overlay = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(await response.Content.ReadAsByteArrayAsync(TestContext.Current.CancellationToken));
        using var original = SixLabors.ImageSharp.Image.Load<SixLabors.ImageSharp.PixelFormats.Rgb24>(image);
        Assert.Equal((original.Width, original.Height), (overlay.Width, overlay.Height));

        // Every pixel of the best instance's mask is tinted or outlined: none is left as it was (unless the photo
        // already had the tint colour there, which a cat photo does not).
        byte[] mask = CocoRle.FromCompressedString(json.Instances[0].Mask.Counts, json.Height, json.Width).Decode();
        int inMask = 0, changed = 0;
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i] != 0)
            {
                inMask++;
                changed += overlay[i % json.Width, i / json.Width].Equals(original[i % json.Width, i / json.Width]) ? 0 : 1;
            }
        }

        Assert.True(changed > 0.95 * inMask, $"{changed} of {inMask} mask pixels changed");

        using HttpResponseMessage bad = await _client.PostImageAsync("/v1/models/detectron2-small/overlay?effect=blur", image);
        ProblemBody problem = await bad.ProblemAsync(400);
        Assert.Contains("instance model", problem.Detail, StringComparison.Ordinal);
    }

    private async Task<InstanceSegmentationResponse?> PostJsonAsync(string url, string image)
    {
        using HttpResponseMessage response = await _client.PostImageAsync(url, image);
        string body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        Assert.True(response.IsSuccessStatusCode, body);
        return JsonSerializer.Deserialize<InstanceSegmentationResponse>(body, HttpHelpers.Json);
    }

    private static double BoxIou(double[] a, BoxResponse b)
    {
        double ix = Math.Max(0, Math.Min(a[2], b.X2) - Math.Max(a[0], b.X1));
        double iy = Math.Max(0, Math.Min(a[3], b.Y2) - Math.Max(a[1], b.Y1));
        double intersection = ix * iy;
        double union = ((a[2] - a[0]) * (a[3] - a[1])) + ((b.X2 - b.X1) * (b.Y2 - b.Y1)) - intersection;
        return union <= 0 ? 0 : intersection / union;
    }
}
